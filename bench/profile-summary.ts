/**
 * Summarises a `.cpuprofile` written with `BENCH_CPU_PROF=<dir>`: self time by package or source
 * file and by function, and the time inside each of the project's own functions (callees
 * included), so the costs of a bench run can be read without a browser.
 *
 *   npx tsx bench/profile-summary.ts <file.cpuprofile> [rows]
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const [file, rowsArg] = process.argv.slice(2);
if (!file) {
  process.stderr.write('usage: npx tsx bench/profile-summary.ts <file.cpuprofile> [rows]\n');
  process.exit(2);
}
const rows = Number(rowsArg ?? 30);
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

const shortUrl = (url: string) => {
  const u = url.replace(/^file:\/\//, '');
  if (u.includes('/node_modules/')) return u.replace(/.*node_modules\//, 'npm:');
  // the compiled app (dist/) is named by its source file
  return u.replace(/.*\/(src|bench|test)\//, '$1/').replace(/^\/.*\/dist\/(?!.*\/dist\/)/, 'src/');
};
const isOwn = (url: string) => !url.includes('/node_modules/') && /\/(src|bench|dist|test)\//.test(url);
const packageOf = (url: string) => {
  const u = shortUrl(url);
  if (!u.startsWith('npm:')) return u;
  return u
    .split('/')
    .slice(0, u.startsWith('npm:@') ? 2 : 1)
    .join('/');
};
const label = (n: ProfileNode) =>
  `${n.callFrame.functionName || '(anonymous)'} ${shortUrl(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;

const selfByFunction = new Map<string, number>();
const selfByFile = new Map<string, number>();
const inside = new Map<string, number>();
const insidePackage = new Map<string, number>();
const ownOnStack = new Map<number, Set<string>>();
const packagesOnStack = new Map<number, Set<string>>();
function packagesOn(id: number): Set<string> {
  const known = packagesOnStack.get(id);
  if (known) return known;
  const node = byId.get(id) as ProfileNode;
  const up = parent.get(id);
  const set = new Set(up === undefined ? [] : packagesOn(up));
  const pkg = packageOf(node.callFrame.url);
  if (pkg.startsWith('npm:') || pkg.startsWith('node:')) set.add(pkg.startsWith('node:') ? 'node:*' : pkg);
  packagesOnStack.set(id, set);
  return set;
}
function ownFunctionsOn(id: number): Set<string> {
  const known = ownOnStack.get(id);
  if (known) return known;
  const node = byId.get(id) as ProfileNode;
  const up = parent.get(id);
  const set = new Set(up === undefined ? [] : ownFunctionsOn(up));
  if (isOwn(node.callFrame.url)) set.add(label(node));
  ownOnStack.set(id, set);
  return set;
}
let total = 0;
profile.samples.forEach((id, i) => {
  const us = profile.timeDeltas[i] ?? 0;
  const node = byId.get(id) as ProfileNode;
  total += us;
  const add = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + us);
  add(selfByFunction, label(node));
  add(selfByFile, packageOf(node.callFrame.url) || node.callFrame.functionName);
  for (const own of ownFunctionsOn(id)) add(inside, own);
  for (const pkg of packagesOn(id)) add(insidePackage, pkg);
});

function print(title: string, map: Map<string, number>): void {
  process.stdout.write(`\n${title}\n`);
  for (const [key, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, rows)) {
    const line = `${(us / 1000).toFixed(0).padStart(8)} ms ${((100 * us) / total).toFixed(1).padStart(5)} %  ${key}\n`;
    process.stdout.write(line);
  }
}
process.stdout.write(`${file}: ${(total / 1000).toFixed(0)} ms sampled\n`);
print('self time by package or file', selfByFile);
print('self time by function', selfByFunction);
print("time inside each package (callees included; node:* is any of Node's own modules)", insidePackage);
print("time inside the project's own functions (callees included)", inside);
