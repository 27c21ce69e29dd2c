/**
 * scripts/build-if-stale.mjs (`npm start`'s build) in a scratch project whose build steps only
 * log that they ran and write their output: every step on a fresh tree, none on a built one, only
 * the step whose input changed or whose output is gone, and the native step each time while it
 * produces no addon (no toolchain). A failing step stops it with exit 1 and leaves no stamp.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { projectRoot } from '../helpers/paths.js';

const OUTPUTS: Record<string, string | null> = {
  'build:playground': 'dist/public/playground/index.html',
  'build:wasm': 'build/wasm/gemm.wasm',
  'build:native': null, // as where pkg-config or OpenBLAS is missing: no addon
  'build:ts': 'dist/src/server.js',
  'build:sbom': 'dist/sbom.cdx.json',
};
const INPUTS = [
  'playground/index.html',
  'assembly/index.ts',
  'native/convsvc_blas.c',
  'src/server.ts',
  'tsconfig.json',
  'package-lock.json',
];

function scratch(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'convsvc-build-if-stale-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'scripts'));
  copyFileSync(join(projectRoot, 'scripts', 'build-if-stale.mjs'), join(dir, 'scripts', 'build-if-stale.mjs'));
  writeFileSync(
    join(dir, 'step.cjs'),
    `const fs = require('fs'), path = require('path');
     const [name, output] = process.argv.slice(2);
     fs.appendFileSync('runs.txt', name + '\\n');
     if (process.env.FAIL === name) process.exit(3);
     if (output) { fs.mkdirSync(path.dirname(output), { recursive: true }); fs.writeFileSync(output, name); }`,
  );
  const scripts = Object.fromEntries(
    Object.entries(OUTPUTS).map(([name, out]) => [name, `node step.cjs ${name} ${out ?? ''}`]),
  );
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'scratch', private: true, scripts }));
  // Inputs from an hour ago: older than any stamp the first run leaves.
  const past = new Date(Date.now() - 3600_000);
  for (const input of [...INPUTS, 'package.json']) {
    mkdirSync(dirname(join(dir, input)), { recursive: true });
    if (input !== 'package.json') writeFileSync(join(dir, input), input);
    utimesSync(join(dir, input), past, past);
    utimesSync(dirname(join(dir, input)), past, past);
  }
  return dir;
}

/** Runs the script; returns the steps it ran, in order. */
function run(dir: string, env: Record<string, string> = {}): { status: number | null; ran: string[]; stderr: string } {
  rmSync(join(dir, 'runs.txt'), { force: true });
  const r = spawnSync(process.execPath, [join(dir, 'scripts', 'build-if-stale.mjs')], {
    cwd: dir,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  let ran: string[] = [];
  try {
    ran = readFileSync(join(dir, 'runs.txt'), 'utf8').trim().split('\n').filter(Boolean);
  } catch {
    // no step ran
  }
  return { status: r.status, ran, stderr: r.stderr };
}

const touch = (dir: string, file: string) => {
  const now = new Date();
  utimesSync(join(dir, file), now, now);
};

describe("npm start's build (scripts/build-if-stale.mjs)", () => {
  it('runs every step on a fresh tree, then only what a change or a missing output calls for', async (t) => {
    const dir = scratch(t);
    let r = run(dir);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(
      r.ran,
      ['build:playground', 'build:wasm', 'build:native', 'build:ts', 'build:sbom'],
      'all of npm run build, in its order',
    );

    r = run(dir);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.ran, ['build:native'], 'a built tree: nothing but the native step, which left no addon');

    await new Promise((resolve) => setTimeout(resolve, 20));
    touch(dir, 'assembly/index.ts');
    touch(dir, 'src/server.ts');
    r = run(dir);
    assert.deepEqual(r.ran, ['build:wasm', 'build:native', 'build:ts'], 'an edited WebAssembly and TypeScript source');

    await new Promise((resolve) => setTimeout(resolve, 20));
    touch(dir, 'package-lock.json');
    r = run(dir);
    assert.deepEqual(
      r.ran,
      ['build:wasm', 'build:native', 'build:ts', 'build:sbom'],
      'a new lockfile: the compilers and the SBOM',
    );

    rmSync(join(dir, 'dist', 'public'), { recursive: true });
    r = run(dir);
    assert.deepEqual(r.ran, ['build:playground', 'build:native'], 'a deleted output');
  });

  it('stops at a failing step with exit 1 and builds it again next time', (t) => {
    const dir = scratch(t);
    let r = run(dir, { FAIL: 'build:ts' });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /npm run build:ts failed/);
    assert.deepEqual(r.ran, ['build:playground', 'build:wasm', 'build:native', 'build:ts']);
    r = run(dir);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.ran, ['build:native', 'build:ts', 'build:sbom']);
  });
});
