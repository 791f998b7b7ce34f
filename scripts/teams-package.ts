/**
 * `npm run teams:package`: the Teams app package to upload (Teams admin center, or Teams → Apps →
 * Manage your apps → Upload an app): manifests/teams/manifest.json with the bot's id put in, and
 * its two icons, zipped flat as Teams wants them.
 *
 *   MicrosoftAppId=<the bot's Entra app id> npm run teams:package   # writes dist/teams-app.zip
 *
 * The bot id is the one the bot runs with (`MicrosoftAppId`); the package refuses to be made
 * without it, since a package naming no bot installs an app that never answers. `--out <file>`
 * writes the zip elsewhere.
 */
import { readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import AdmZip from 'adm-zip';
import { z } from 'zod';

export const TEAMS_MANIFEST_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../manifests/teams');
export const DEFAULT_PACKAGE_PATH = 'dist/teams-app.zip';

const botIdSchema = z
  .string({ error: 'MicrosoftAppId is not set: set it to the bot’s Microsoft app id (a GUID)' })
  .trim()
  .pipe(z.guid({ error: 'MicrosoftAppId must be a GUID such as 7f0c1e7a-…, the bot’s Microsoft app id' }));

const manifestSchema = z
  .object({
    icons: z.object({ color: z.string().min(1), outline: z.string().min(1) }),
    bots: z.array(z.object({ botId: z.string() }).passthrough()).length(1),
  })
  .passthrough();

export interface TeamsPackage {
  path: string;
  /** What was zipped, by name. */
  entries: string[];
}

/** Zips the manifest (with `botId` put in) and its icons into `out`. Throws a readable error. */
export async function buildTeamsPackage(options: {
  botId: string | undefined;
  out: string;
  manifestDir?: string;
}): Promise<TeamsPackage> {
  const botId = botIdSchema.safeParse(options.botId);
  if (!botId.success) throw new Error(botId.error.issues[0]?.message ?? 'MicrosoftAppId is invalid');
  const dir = options.manifestDir ?? TEAMS_MANIFEST_DIR;
  const manifest = manifestSchema.parse(JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')));
  const withBot = {
    ...manifest,
    bots: manifest.bots.map((bot) => ({ ...bot, botId: botId.data })),
  };
  const zip = new AdmZip();
  zip.addFile('manifest.json', Buffer.from(`${JSON.stringify(withBot, null, 2)}\n`));
  for (const icon of [manifest.icons.color, manifest.icons.outline]) {
    zip.addFile(icon, readFileSync(join(dir, icon)));
  }
  await mkdir(dirname(resolve(options.out)), { recursive: true });
  await zip.writeZipPromise(options.out);
  return { path: options.out, entries: zip.getEntries().map((e) => e.entryName) };
}

async function main(argv: string[]): Promise<number> {
  const at = argv.indexOf('--out');
  const out = at >= 0 ? argv[at + 1] : DEFAULT_PACKAGE_PATH;
  if (!out) {
    console.error('usage: npm run teams:package [-- --out <file.zip>]');
    return 2;
  }
  try {
    const made = await buildTeamsPackage({ botId: process.env.MicrosoftAppId, out });
    console.log(`${made.path}: ${made.entries.join(', ')} — upload it in Teams (Apps → Manage your apps)`);
    return 0;
  } catch (error) {
    console.error(`teams:package: ${error instanceof Error ? error.message : String(error)}`);
    return 2;
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}
