/**
 * CPU per Slack Web API call on this side, through the library's `WebClient` (over the app's
 * kept-alive transport, as Bolt's own client) and through the app's `SlackApiClient`
 * (src/bot/slack/web-client.ts): `chat.postMessage` with an approval card's blocks, 16 at once,
 * against a local server in a process of its own (so only the client's CPU is counted).
 *
 *   npx tsx bench/slack-client.ts [calls]
 */
import { fork } from 'node:child_process';
import { WebClient } from '@slack/web-api';
import { keepAliveFetch } from '../src/bot/slack/http-fetch.js';
import { asJsonArg, renderMessage } from '../src/bot/slack/render.js';
import { SlackApiClient } from '../src/bot/slack/web-client.js';
import { ActionId, type MessageView } from '../src/domain/views/model.js';

if (process.argv[2] === 'serve') {
  const http = await import('node:http');
  const { parse } = await import('node:querystring');
  let n = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const args = parse(Buffer.concat(chunks).toString());
      const blocks = typeof args.blocks === 'string' ? JSON.parse(args.blocks) : undefined;
      const ts = `1700000000.${String(++n).padStart(6, '0')}`;
      const message = {
        type: 'message',
        user: 'UBOT',
        bot_id: 'B1',
        text: args.text,
        ts,
        team: 'T1',
        blocks,
      };
      res.writeHead(200, {
        'content-type': 'application/json; charset=utf-8',
        'x-oauth-scopes': 'chat:write,users:read,users:read.email,im:write',
        'x-accepted-oauth-scopes': 'chat:write',
      });
      res.end(JSON.stringify({ ok: true, channel: 'D123', ts, message }));
    });
  });
  server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    process.send?.(typeof address === 'object' && address ? address.port : 0);
  });
} else {
  const calls = Number(process.argv[2] ?? 4000);
  const child = fork(new URL(import.meta.url).pathname, ['serve'], { execArgv: process.execArgv });
  const port = await new Promise<number>((resolve) => child.once('message', (m) => resolve(Number(m))));
  const url = `http://127.0.0.1:${port}/api/`;
  const token = 'xoxb-123-456-abcdef';
  const view: MessageView = {
    title: 'Access request: prod-db (read-only)',
    text: 'Alex Example asks for prod-db for 2 hours',
    lines: [
      '*Alex Example* asks for access to *prod-db*',
      'Reason: incident INC-4242 & the <billing> pipeline',
    ],
    fields: [
      { label: 'Resource', value: 'prod-db' },
      { label: 'Duration', value: '2 hours' },
      { label: 'Requested by', value: 'alex@example.com' },
      { label: 'Approvers', value: 'sam, kim, lee' },
      { label: 'Expires', value: 'Tue 3 Dec 2026 22:15 UTC' },
    ],
    actions: [
      { id: ActionId.approve, label: 'Approve', value: 'req_0123456789abcdef', style: 'primary' },
      { id: ActionId.deny, label: 'Deny', value: 'req_0123456789abcdef', style: 'danger' },
    ],
    note: 'Request req_0123456789abcdef · approvals needed: 1',
  };
  const clients: Record<string, () => WebClient> = {
    WebClient: () =>
      new WebClient(token, {
        slackApiUrl: url,
        fetch: keepAliveFetch({ timeoutMs: 10_000 }),
        timeout: 0,
        retryConfig: { retries: 0 },
        rejectRateLimitedCalls: true,
      }),
    SlackApiClient: () =>
      new SlackApiClient(token, {
        slackApiUrl: url,
        timeoutMs: 10_000,
        retryConfig: { retries: 0 },
        rejectRateLimitedCalls: true,
      }),
  };
  const run = async (client: WebClient, n: number) => {
    let i = 0;
    const worker = async () => {
      while (i++ < n) {
        const { text, blocks } = renderMessage(view);
        await client.chat.postMessage({
          channel: 'D123',
          text,
          blocks: asJsonArg(blocks),
          unfurl_links: false,
          unfurl_media: false,
        });
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
  };
  for (const round of [1, 2, 3]) {
    for (const [name, make] of Object.entries(clients)) {
      const client = make();
      await run(client, 1000); // warm up
      const before = process.cpuUsage();
      await run(client, calls);
      const used = process.cpuUsage(before);
      const perCall = (used.user + used.system) / calls;
      process.stdout.write(`round ${round}  ${name.padEnd(15)} ${perCall.toFixed(1)} µs of CPU a call\n`);
    }
  }
  child.kill();
}
