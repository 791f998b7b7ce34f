/** The process logger: structured, with secrets redacted wherever they might appear. */
import { pino } from 'pino';

export function createLogger(level: string, destination?: pino.DestinationStream): pino.Logger {
  return pino(
    {
      level,
      base: { app: 'jit-access-bot' },
      redact: {
        paths: [
          'token',
          'secret',
          '*.token',
          '*.secret',
          '*.signingSecret',
          '*.botToken',
          '*.appToken',
          '*.apiToken',
          '*.linkSigningSecret',
          'headers.authorization',
          '*.headers.authorization',
          'headers["x-slack-signature"]',
          'headers["x-jit-signature"]',
        ],
        censor: '[redacted]',
      },
      serializers: { err: pino.stdSerializers.err },
    },
    destination,
  );
}
