import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Ajv, type AnySchemaObject } from 'ajv';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

// Slack publishes its manifest schema only on GitHub; a pinned copy sits beside the repository
// (../shared/schemas/slack-app-manifest/, see its SOURCE.md).
// A copy is vendored beside this test (MIT, see its LICENSE and SOURCE.md) so a fresh clone can
// run it; when the shared copy is present too, a test below checks the two have not drifted.
const SCHEMA_DIR = resolve(process.cwd(), 'test/manifest/slack-manifest-schema');
const SHARED_SCHEMA_DIR = resolve(process.cwd(), '../shared/schemas/slack-app-manifest');
const MANIFEST_PATH = resolve(process.cwd(), 'manifests/slack.yaml');
const REQUIRED_BOT_SCOPES = [
  'commands',
  'chat:write',
  'im:write',
  'users:read',
  'users:read.email',
  'usergroups:read',
  'usergroups:write',
  'files:write',
];

function readJson(path: string): AnySchemaObject {
  if (!existsSync(path)) {
    throw new Error(
      `Slack app manifest schema not found at ${path}. A copy of github.com/slackapi/manifest-schema ` +
        'is vendored in test/manifest/slack-manifest-schema/ (also in ../shared/schemas/slack-app-manifest/); ' +
        'restore that directory to run this test.',
    );
  }
  return JSON.parse(readFileSync(path, 'utf8')) as AnySchemaObject;
}

function refsIn(value: unknown, out: Set<string> = new Set()): Set<string> {
  if (Array.isArray(value)) {
    for (const item of value) refsIn(item, out);
  } else if (typeof value === 'object' && value !== null) {
    for (const [key, child] of Object.entries(value)) {
      if (key === '$ref' && typeof child === 'string' && child.startsWith('http')) out.add(child);
      else refsIn(child, out);
    }
  }
  return out;
}

/** A draft-07 validator for the root schema, with the versioned schemas it refers to loaded from disk. */
function compileManifestValidator() {
  const root = readJson(resolve(SCHEMA_DIR, 'manifest.schema.json'));
  expect(root.$schema).toBe('http://json-schema.org/draft-07/schema#');
  // Slack's schema carries annotation keywords of its own ("regex", "requires", "_note"); declare them so
  // strict schema mode accepts it while still refusing any other unknown keyword (the strictRequired/
  // strictTypes/strictTuples lints are about how the schema is written, not what it checks).
  const ajv = new Ajv({
    allErrors: true,
    strictSchema: true,
    strictRequired: false,
    strictTypes: false,
    strictTuples: false,
    allowUnionTypes: true,
  });
  for (const keyword of ['regex', 'requires', '_note']) ajv.addKeyword({ keyword });
  addFormats.default(ajv);
  for (const url of refsIn(root)) {
    const file = resolve(SCHEMA_DIR, 'schemas', url.slice(url.lastIndexOf('/') + 1));
    ajv.addSchema(readJson(file), url);
  }
  return ajv.compile(root);
}

function loadManifest(): Record<string, unknown> {
  return parse(readFileSync(MANIFEST_PATH, 'utf8')) as Record<string, unknown>;
}

interface Manifest {
  features?: { slash_commands?: Array<{ command: string; url?: string }> };
  oauth_config?: { scopes?: { bot?: string[] } };
  settings?: {
    interactivity?: { is_enabled?: boolean; request_url?: string };
    socket_mode_enabled?: boolean;
  };
}

describe('manifests/slack.yaml', () => {
  it("is valid against Slack's app manifest schema", () => {
    const validate = compileManifestValidator();
    const valid = validate(loadManifest());
    expect(validate.errors ?? [], JSON.stringify(validate.errors, null, 2)).toEqual([]);
    expect(valid).toBe(true);
  });

  it("rejects Slack's own invalid example, so the validator is really checking", () => {
    const validate = compileManifestValidator();
    const invalid = readJson(resolve(SCHEMA_DIR, 'tests/manifests/v1/manifest.invalid.json'));
    expect(validate(invalid)).toBe(false);
    expect(validate(readJson(resolve(SCHEMA_DIR, 'tests/manifests/v1/manifest.valid.json')))).toBe(true);
  });

  it('declares the /request-access command at the Bolt endpoint', () => {
    const manifest = loadManifest() as Manifest;
    const command = manifest.features?.slash_commands?.find((c) => c.command === '/request-access');
    expect(command).toBeDefined();
    expect(command?.url).toMatch(/^https:\/\/[^/]+\/slack\/events$/);
  });

  it('turns interactivity on at the Bolt endpoint', () => {
    const manifest = loadManifest() as Manifest;
    expect(manifest.settings?.interactivity?.is_enabled).toBe(true);
    expect(manifest.settings?.interactivity?.request_url).toMatch(/^https:\/\/[^/]+\/slack\/events$/);
  });

  it('asks for every bot scope the bot uses', () => {
    const manifest = loadManifest() as Manifest;
    expect(manifest.oauth_config?.scopes?.bot ?? []).toEqual(expect.arrayContaining(REQUIRED_BOT_SCOPES));
  });

  const sharedRoot = resolve(SHARED_SCHEMA_DIR, 'manifest.schema.json');
  it.skipIf(!existsSync(sharedRoot))(
    existsSync(sharedRoot)
      ? 'validates against the same schema as the shared copy beside the repository'
      : 'validates against the same schema as the shared copy [skipped: ../shared/schemas/slack-app-manifest is not beside this clone]',
    () => {
      const files = (readdirSync(SHARED_SCHEMA_DIR, { recursive: true }) as string[]).filter((f) =>
        f.endsWith('.json'),
      );
      expect(files.length).toBeGreaterThan(2);
      for (const file of files) {
        expect(readFileSync(resolve(SCHEMA_DIR, file), 'utf8'), file).toBe(
          readFileSync(resolve(SHARED_SCHEMA_DIR, file), 'utf8'),
        );
      }
    },
  );
});
