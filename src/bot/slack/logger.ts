import { type Logger, LogLevel } from '@slack/bolt';
import type { Log } from '../../domain/events.js';

/** Slack's logger interface (Bolt, the Web API client) on top of ours, so every line is structured the same way. */
export function slackLogger(log: Log): Logger {
  let level = LogLevel.INFO;
  const child = log.child({ component: 'bolt' });
  const text = (msg: unknown[]) => msg.map((m) => (typeof m === 'string' ? m : JSON.stringify(m))).join(' ');
  return {
    debug: (...m: unknown[]) => child.debug({}, text(m)),
    info: (...m: unknown[]) => child.info({}, text(m)),
    warn: (...m: unknown[]) => child.warn({}, text(m)),
    error: (...m: unknown[]) => child.error({}, text(m)),
    setLevel: (l: LogLevel) => {
      level = l;
    },
    getLevel: () => level,
    setName: () => {},
  };
}
