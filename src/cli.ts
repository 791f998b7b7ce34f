#!/usr/bin/env node
/**
 * The command line (`bin` in package.json): `jit-access-bot start` runs the bot (src/main.ts,
 * what `npm start` runs); `jit-access-bot check-config <file>` checks a policy file and starts
 * nothing; `jit-access-bot migrate` rebuilds changed MongoDB indexes (src/migrate.ts). Exit
 * status: 0 fine, 1 unexpected failure, 2 bad usage or configuration.
 */
import { parseArgs } from 'node:util';
import { checkConfig } from './check-config.js';

const USAGE = `Usage:
  jit-access-bot start
      Run the bot. Configured by environment variables (see README.md).
  jit-access-bot check-config <file> [--require-secrets]
      Check a policy file without starting anything: exit 0 with a one-line summary, or 2
      listing every problem by path. Webhook secrets missing from the environment are notes,
      or problems with --require-secrets.
  jit-access-bot migrate
      Rebuild the MongoDB indexes whose definition changed (drops and builds them again), for the
      store configured as for start (MONGODB_URI, or the embedded one in DATA_DIR). Instances only
      create missing indexes when they start; run this once, with the bot stopped, when the
      release notes or a store.index_conflict log line say so.
  jit-access-bot --help
      Show this text.
`;

class UsageError extends Error {}

async function run(args: string[]): Promise<void> {
  const [command, ...rest] = args;
  if (command === undefined) throw new UsageError('no command given');
  if (command === 'help' || args.some((arg) => arg === '--help' || arg === '-h')) {
    process.stdout.write(USAGE);
    return;
  }
  switch (command) {
    case 'start': {
      if (rest.length > 0) throw new UsageError(`start takes no arguments (got ${rest.join(' ')})`);
      // Loaded only here: check-config need not load Bolt, mongoose and Agenda.
      const { main } = await import('./main.js');
      await main();
      return;
    }
    case 'migrate': {
      if (rest.length > 0) throw new UsageError(`migrate takes no arguments (got ${rest.join(' ')})`);
      const { migrate } = await import('./migrate.js');
      process.exitCode = await migrate({
        stdout: (line) => process.stdout.write(`${line}\n`),
        stderr: (line) => process.stderr.write(`${line}\n`),
      });
      return;
    }
    case 'check-config': {
      const { file, requireSecrets } = checkConfigArgs(rest);
      const result = checkConfig(file, { requireSecrets });
      for (const line of result.stdout) process.stdout.write(`${line}\n`);
      for (const line of result.stderr) process.stderr.write(`${line}\n`);
      process.exitCode = result.ok ? 0 : 2;
      return;
    }
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

function checkConfigArgs(args: string[]): { file: string; requireSecrets: boolean } {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(args);
  } catch (error) {
    throw new UsageError(`check-config: ${error instanceof Error ? error.message : String(error)}`);
  }
  const [file, ...extra] = parsed.positionals;
  if (file === undefined) throw new UsageError('check-config needs the policy file to check');
  if (extra.length > 0)
    throw new UsageError(`check-config checks one file (got ${parsed.positionals.length})`);
  return { file, requireSecrets: parsed.values['require-secrets'] === true };
}

function parse(args: string[]) {
  return parseArgs({
    args,
    options: { 'require-secrets': { type: 'boolean' } },
    allowPositionals: true,
    strict: true,
  });
}

run(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof UsageError) {
    process.stderr.write(`jit-access-bot: ${error.message}\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  process.stderr.write(`Fatal: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
