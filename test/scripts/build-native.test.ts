/**
 * scripts/build-native.mjs where the toolchain is missing: one line saying what is missing and
 * what to install, exit 0 (so `npm ci && npm start` never fails for it), and no stale addon left
 * to load. Run from a copy in a scratch folder, so the project's own build is untouched.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { projectRoot } from '../helpers/paths.js';

function scratch(t: { after: (fn: () => void) => void }): { dir: string; onlyNode: string; stale: string } {
  const dir = mkdtempSync(join(tmpdir(), 'convsvc-build-native-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'scripts'));
  copyFileSync(join(projectRoot, 'scripts', 'build-native.mjs'), join(dir, 'scripts', 'build-native.mjs'));
  // A PATH with node alone: no pkg-config, compiler, make or python3.
  const onlyNode = join(dir, 'bin');
  mkdirSync(onlyNode);
  symlinkSync(process.execPath, join(onlyNode, 'node'));
  const stale = join(dir, 'build', 'native', 'convsvc_blas.node');
  mkdirSync(join(dir, 'build', 'native'), { recursive: true });
  writeFileSync(stale, 'an addon from an earlier build');
  return { dir, onlyNode, stale };
}

const run = (dir: string, env: Record<string, string>) =>
  spawnSync(process.execPath, [join(dir, 'scripts', 'build-native.mjs')], { env, encoding: 'utf8', timeout: 30_000 });

describe('the native build without a toolchain', () => {
  it('prints one line naming what is missing and what to install, exits 0, and removes a stale addon', (t) => {
    const { dir, onlyNode, stale } = scratch(t);
    const r = run(dir, { PATH: onlyNode });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, '');
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.length, 1, r.stdout);
    assert.match(
      lines[0],
      /^native GEMM not built \(pkg-config not found\); the service runs on WebAssembly\. For OpenBLAS: apt-get install .*libopenblas-dev/,
    );
    assert.ok(!existsSync(stale), 'no stale addon is left to load');
  });

  it('is skipped on request with CONVSVC_NATIVE=0, the same way', (t) => {
    const { dir } = scratch(t);
    const r = run(dir, { PATH: process.env.PATH ?? '', CONVSVC_NATIVE: '0' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^native GEMM not built \(CONVSVC_NATIVE=0\)/);
  });
});
