/**
 * manifests/teams: the Teams app manifest is valid against Microsoft's own schema (shipped in npm
 * `@microsoft/app-manifest`, read from disk, so offline), uses the newest schema that package ships,
 * offers exactly the commands the bot answers, and has the two icons Teams asks for; and
 * `npm run teams:package` zips it for upload with the bot's id put in.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { inflateSync } from 'node:zlib';
import { AppManifestUtils } from '@microsoft/app-manifest';
import AdmZip from 'adm-zip';
import { describe, expect, it } from 'vitest';
import { buildTeamsPackage, TEAMS_MANIFEST_DIR } from '../../scripts/teams-package.js';
import { TEAMS_COMMANDS } from '../../src/bot/teams/commands.js';

const manifestText = readFileSync(join(TEAMS_MANIFEST_DIR, 'manifest.json'), 'utf8');
const manifest = JSON.parse(manifestText) as {
  $schema: string;
  manifestVersion: string;
  id: string;
  icons: { color: string; outline: string };
  bots: Array<{
    botId: string;
    scopes: string[];
    commandLists: Array<{ scopes: string[]; commands: Array<{ title: string; description: string }> }>;
  }>;
};

const schemasDir = join(
  dirname(createRequire(import.meta.url).resolve('@microsoft/app-manifest')),
  'json-schemas/teams',
);

function newestShippedVersion(): string {
  const versions = readdirSync(schemasDir)
    .filter((d) => /^v\d+\.\d+$/.test(d))
    .map((d) => d.slice(1).split('.').map(Number) as [number, number]);
  versions.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const newest = versions.at(-1);
  if (!newest) throw new Error(`no Teams schemas under ${schemasDir}`);
  return newest.join('.');
}

/** Width, height and RGBA pixels of a non-interlaced 8-bit RGBA PNG. */
function readPng(file: string): { width: number; height: number; colorType: number; pixels: Buffer } {
  const data = readFileSync(file);
  expect(data.subarray(0, 8)).toEqual(Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]));
  let offset = 8;
  let width = 0;
  let height = 0;
  let colorType = -1;
  const idat: Buffer[] = [];
  while (offset < data.length) {
    const length = data.readUInt32BE(offset);
    const type = data.toString('ascii', offset + 4, offset + 8);
    const body = data.subarray(offset + 8, offset + 8 + length);
    if (type === 'IHDR') {
      width = body.readUInt32BE(0);
      height = body.readUInt32BE(4);
      colorType = body[9] ?? -1;
    }
    if (type === 'IDAT') idat.push(body);
    offset += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * 4;
  const pixels = Buffer.alloc(stride * height);
  for (let y = 0; y < height; y++) {
    // Only filter 0 (none) and 1 (sub) are expected in these small generated icons.
    const filter = raw[y * (stride + 1)];
    expect(filter === 0 || filter === 1).toBe(true);
    for (let i = 0; i < stride; i++) {
      const byte = raw[y * (stride + 1) + 1 + i] ?? 0;
      const left = filter === 1 && i >= 4 ? (pixels[y * stride + i - 4] ?? 0) : 0;
      pixels[y * stride + i] = (byte + left) & 0xff;
    }
  }
  return { width, height, colorType, pixels };
}

describe('the Teams app manifest', () => {
  it('is valid against the Teams manifest schema that @microsoft/app-manifest ships (offline)', async () => {
    const version = newestShippedVersion();
    const schema = JSON.parse(
      readFileSync(join(schemasDir, `v${version}/MicrosoftTeams.schema.json`), 'utf8'),
    );
    const failures = await AppManifestUtils.validateAgainstSchema(manifest as never, schema);
    expect(failures).toEqual([]);
  });

  it('uses the newest manifest schema version that package ships, named in $schema as well', () => {
    const version = newestShippedVersion();
    expect(manifest.manifestVersion).toBe(version);
    expect(manifest.$schema).toBe(
      `https://developer.microsoft.com/json-schemas/teams/v${version}/MicrosoftTeams.schema.json`,
    );
  });

  it('is found by validateAgainstSchema from its $schema alone, on disk (no download)', async () => {
    expect(await AppManifestUtils.validateAgainstSchema(manifest as never)).toEqual([]);
  });

  it('refuses a manifest the schema does not allow (so the check above can fail)', async () => {
    const broken = { ...manifest, id: 'not-a-guid', bots: [{ ...manifest.bots[0], scopes: ['everywhere'] }] };
    const failures = await AppManifestUtils.validateAgainstSchema(broken as never);
    expect(failures.join('\n')).toMatch(/\/id/);
    expect(failures.join('\n')).toMatch(/\/bots\/0\/scopes/);
  });

  it('has one bot, in the personal scope, and valid GUIDs for the app and the bot', () => {
    const guid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
    expect(manifest.id).toMatch(guid);
    expect(manifest.bots).toHaveLength(1);
    expect(manifest.bots[0]?.botId).toMatch(guid);
    expect(manifest.bots[0]?.scopes).toEqual(['personal']);
  });

  it('offers in its command list exactly the commands the bot answers, and the reverse', () => {
    const lists = manifest.bots[0]?.commandLists ?? [];
    expect(lists.map((l) => l.scopes)).toEqual([['personal']]);
    const offered = lists.flatMap((l) => l.commands);
    expect(offered.map((c) => c.title).sort()).toEqual(TEAMS_COMMANDS.map((c) => c.title).sort());
    expect(offered).toEqual(TEAMS_COMMANDS.map((c) => ({ title: c.title, description: c.description })));
    expect(offered.map((c) => c.title)).toContain('request access');
    expect(offered.map((c) => c.title)).toContain('help');
  });

  it('has a 192x192 color icon and a 32x32 outline icon that is white on transparent', () => {
    const color = readPng(join(TEAMS_MANIFEST_DIR, manifest.icons.color));
    expect([color.width, color.height, color.colorType]).toEqual([192, 192, 6]);
    const outline = readPng(join(TEAMS_MANIFEST_DIR, manifest.icons.outline));
    expect([outline.width, outline.height, outline.colorType]).toEqual([32, 32, 6]);
    let opaque = 0;
    let transparent = 0;
    for (let i = 0; i < outline.pixels.length; i += 4) {
      const [r, g, b, a] = [...outline.pixels.subarray(i, i + 4)];
      if (a === 0) transparent++;
      else {
        opaque++;
        expect([r, g, b]).toEqual([255, 255, 255]);
      }
    }
    expect(opaque).toBeGreaterThan(50);
    expect(transparent).toBeGreaterThan(500);
  });
});

describe('npm run teams:package', () => {
  const botId = '7f0c1e7a-1111-4222-8333-444455556666';

  it('zips the manifest, with the bot id from MicrosoftAppId, and both icons, flat', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'teams-pkg-')), 'app.zip');
    const made = await buildTeamsPackage({ botId, out });
    expect(made.entries.sort()).toEqual(['color.png', 'manifest.json', 'outline.png']);
    const zip = new AdmZip(out);
    const zipped = JSON.parse(zip.readAsText('manifest.json'));
    expect(zipped.bots[0].botId).toBe(botId);
    expect({ ...zipped, bots: undefined }).toEqual({ ...manifest, bots: undefined });
    expect(await AppManifestUtils.validateAgainstSchema(zipped)).toEqual([]);
    expect(zip.readFile('outline.png')).toEqual(readFileSync(join(TEAMS_MANIFEST_DIR, 'outline.png')));
  });

  it('refuses, with exit 2 and a sentence naming MicrosoftAppId, when the bot id is missing or not a GUID', async () => {
    const run = promisify(execFile);
    const out = join(mkdtempSync(join(tmpdir(), 'teams-pkg-')), 'app.zip');
    for (const value of [undefined, 'my-bot']) {
      const { MicrosoftAppId: _unset, ...rest } = process.env;
      const env = value === undefined ? rest : { ...rest, MicrosoftAppId: value };
      const failed = await run('npx', ['tsx', 'scripts/teams-package.ts', '--out', out], { env }).then(
        () => null,
        (error: { code: number; stderr: string }) => error,
      );
      expect(failed?.code).toBe(2);
      expect(failed?.stderr).toMatch(/MicrosoftAppId/);
    }
  });
});
