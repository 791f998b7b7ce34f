/**
 * `npm run bench -- teams` (or `npx tsx bench/teams-form.ts` alone): the Teams request form over a catalogue of 5,000 resources, through
 * the real CloudAdapter over HTTP (authentication on) and the fake Bot Connector:
 *
 *   - form open: "request access" typed in the personal chat → the form card (with its static
 *     first page of the type-ahead menu) posted into the chat;
 *   - type-ahead: one `application/search` invoke → its answer (what each keystroke in the
 *     dynamic resource menu asks), over random queries (ids, names, partial words, groups, letters).
 *
 * Numbers are printed, never asserted: they depend on the machine. `teamsFormBench()` returns the
 * rows for a bench runner that prints one table.
 */
import { pathToFileURL } from 'node:url';
import { largeCatalog } from '../test/core/large-catalog.js';
import { startFakeBotConnector } from '../test/support/fake-bot-connector.js';
import { startTestSystem, USERS } from '../test/support/system.js';
import { TeamsChat } from '../test/support/teams-client.js';

const RESOURCES = 5000;
const OPENS = 30;
const QUERIES = 200;

export interface BenchRow {
  what: string;
  value: string;
  meaning: string;
}

const ms = (n: number) => `${n.toFixed(n < 10 ? 2 : 0)} ms`;

function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return (
    sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN
  );
}

/** The `i`-th of the queries people type: ids, names, cut-short words, groups, single letters. */
function queryFor(r: { id: string; name: string; group: string }, i: number): string {
  switch (i % 5) {
    case 0:
      return r.id;
    case 1:
      return r.name;
    case 2:
      return r.name
        .split(' ')
        .map((w, j) => w.slice(0, 2 + ((i + j) % 4)))
        .reverse()
        .join(' ');
    case 3:
      return r.group;
    default:
      return 'abcdefghijklmnopqrstuvwxyz'.charAt(i % 26);
  }
}

export async function teamsFormBench(): Promise<BenchRow[]> {
  const catalog = largeCatalog({ resources: RESOURCES, groups: 40 });
  const erin = USERS.erin;
  const user = {
    id: '29:1erin',
    aadObjectId: 'aad-erin',
    name: erin.realName,
    email: erin.email,
    userPrincipalName: erin.email,
    tz: erin.tz,
  };
  const connector = await startFakeBotConnector({ users: [user], auth: { appId: 'bench-teams-app' } });
  const t = await startTestSystem({ policy: catalog.yaml, teams: connector });
  try {
    const chat = new TeamsChat(connector, `http://127.0.0.1:${t.system.port}/api/messages`, user);
    await chat.install();

    const opens: number[] = [];
    for (let i = 0; i < OPENS; i++) {
      const t0 = performance.now();
      await chat.open('request access');
      opens.push(performance.now() - t0);
    }

    const searches: number[] = [];
    let found = 0;
    for (let i = 0; i < QUERIES; i++) {
      // Resources spread over the whole catalogue, the same every run.
      const r = catalog.resources[(i * 997) % catalog.resources.length];
      if (!r) continue;
      const query = queryFor(r, i);
      const t0 = performance.now();
      const results = await chat.search('jit.resources', query);
      searches.push(performance.now() - t0);
      if (results.some((x) => !x.value.startsWith('jit.search.'))) found++;
    }
    if (found === 0) throw new Error('bench (teams form): no query found anything');
    return [
      {
        what: `Teams form open, ${RESOURCES} resources`,
        value: `${ms(percentile(opens, 50))} / ${ms(percentile(opens, 95))}`,
        meaning: `p50 / p95 of ${OPENS} "request access" messages → form card posted (HTTP in, card out through the connector)`,
      },
      {
        what: `Teams type-ahead, ${RESOURCES} resources`,
        value: `${ms(percentile(searches, 50))} / ${ms(percentile(searches, 99))}`,
        meaning: `p50 / p99 of ${QUERIES} application/search invokes over HTTP → answer (ids, names, partial words, groups, letters)`,
      },
    ];
  } finally {
    await t.close();
    await connector.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  teamsFormBench()
    .then((rows) => {
      for (const r of rows) process.stdout.write(`${r.what}  ${r.value}  ${r.meaning}\n`);
    })
    .catch((error: unknown) => {
      process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exit(1);
    });
}
