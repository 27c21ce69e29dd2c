#!/usr/bin/env node
/**
 * `npm start`'s build: runs those steps of `npm run build` whose inputs changed since the step last
 * ran here, and no others. A built tree then starts in about a second instead of rebuilding for
 * 11-20 s, while a fresh clone (`npm ci && npm start`) or an edited one is built first.
 *
 * A step is up to date when its stamp exists, no input file is newer than the stamp, and its
 * output exists. The stamp (dist/.stamps or build/.stamps, next to the step's output, so deleting
 * dist or build forgets it) takes the time the step started: a file saved while it ran counts as
 * newer. A native build that produced no addon (no toolchain here) is retried every time; it
 * gives up in milliseconds where pkg-config or OpenBLAS is missing.
 *
 * `npm run build` still rebuilds everything, as the Dockerfile and CI want.
 *
 * Plain JavaScript (not TypeScript) because it runs before the TypeScript is compiled.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** In `npm run build`'s order; inputs are files or folders (walked, `build` and `node_modules` skipped). */
const STEPS = [
  { script: 'build:playground', inputs: ['playground'], output: 'dist/public/playground/index.html', stamps: 'dist' },
  {
    script: 'build:wasm',
    inputs: ['assembly', 'asconfig.json', 'package-lock.json'],
    output: 'build/wasm/gemm.wasm',
    stamps: 'build',
  },
  {
    script: 'build:native',
    inputs: ['native', 'scripts/build-native.mjs'],
    output: 'build/native/convsvc_blas.node',
    stamps: 'build',
  },
  {
    script: 'build:ts',
    inputs: ['src', 'workers', 'client', 'scripts', 'tsconfig.json', 'tsconfig.build.json', 'package-lock.json'],
    output: 'dist/src/server.js',
    stamps: 'dist',
  },
  {
    script: 'build:sbom',
    inputs: ['package.json', 'package-lock.json', 'node_modules/.package-lock.json', 'scripts/build-sbom.mjs'],
    output: 'dist/sbom.cdx.json',
    stamps: 'dist',
  },
];

/** The newest modification time under `path` (0 when it does not exist). */
function newest(path) {
  let stat;
  try {
    stat = statSync(path);
  } catch {
    return 0;
  }
  if (!stat.isDirectory()) return stat.mtimeMs;
  let max = stat.mtimeMs; // a deleted or renamed file changes its folder
  for (const entry of readdirSync(path)) {
    if (entry === 'node_modules' || entry === 'build') continue;
    max = Math.max(max, newest(join(path, entry)));
  }
  return max;
}

const stampOf = (step) => join(root, step.stamps, '.stamps', step.script.replace(':', '-'));

function upToDate(step) {
  const stamp = stampOf(step);
  if (!existsSync(stamp) || !existsSync(join(root, step.output))) return false;
  const stamped = statSync(stamp).mtimeMs;
  return step.inputs.every((input) => newest(join(root, input)) <= stamped);
}

// Under npm (npm start), the npm that runs us; else the one on PATH.
const npm = process.env.npm_execpath;
const runScript = (script) =>
  npm
    ? spawnSync(process.execPath, [npm, 'run', '--silent', script], { cwd: root, stdio: 'inherit' })
    : spawnSync('npm', ['run', '--silent', script], { cwd: root, stdio: 'inherit' });

for (const step of STEPS) {
  if (upToDate(step)) continue;
  const started = new Date();
  const r = runScript(step.script);
  if (r.error !== undefined || r.status !== 0) {
    console.error(`npm run ${step.script} failed (${r.error?.message ?? `exit ${r.status}`})`);
    process.exit(1);
  }
  const stamp = stampOf(step);
  mkdirSync(dirname(stamp), { recursive: true });
  writeFileSync(stamp, `${started.toISOString()}\n`);
  utimesSync(stamp, started, started);
}
