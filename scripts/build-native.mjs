#!/usr/bin/env node
/**
 * Builds the native (OpenBLAS) GEMM addon, native/, into build/native/convsvc_blas.node.
 *
 * The addon is optional: where pkg-config, OpenBLAS, a C compiler or Node's headers are missing,
 * or the build fails, this prints one line saying what to install and exits 0, and the service
 * runs on its WebAssembly GEMM. It never lets node-gyp download headers: it builds against the
 * headers this Node was installed with, or not at all.
 *
 * Plain JavaScript (not TypeScript) because it runs before the TypeScript is compiled.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const nativeDir = join(root, 'native');
const target = join(root, 'build', 'native', 'convsvc_blas.node');
const INSTALL = 'apt-get install pkg-config libopenblas-dev gcc g++ make python3';

const succeeds = (cmd, args) => {
  const r = spawnSync(cmd, args, { stdio: 'ignore' });
  return r.error === undefined && r.status === 0;
};

/** Gives up on the addon: one line, the old build removed so no stale addon loads, exit 0. */
function skip(why) {
  rmSync(target, { force: true });
  console.log(`native GEMM not built (${why}); the service runs on WebAssembly. For OpenBLAS: ${INSTALL}`);
  process.exit(0);
}

/** A folder with include/node/node_api.h: npm's configured nodedir, else this Node's own prefix. */
function nodeHeaders() {
  const candidates = [process.env.npm_config_nodedir, dirname(dirname(process.execPath))].filter(Boolean);
  return candidates.find((dir) => existsSync(join(dir, 'include', 'node', 'node_api.h'))) ?? null;
}

if (process.env.CONVSVC_NATIVE === '0') skip('CONVSVC_NATIVE=0');
if (!succeeds('pkg-config', ['--version'])) skip('pkg-config not found');
if (!succeeds('pkg-config', ['--exists', 'openblas'])) skip('pkg-config finds no openblas');
if (!succeeds(process.env.CC ?? 'cc', ['--version'])) skip('no C compiler');
// node-gyp's Makefiles link with the C++ driver, even for C sources.
if (!succeeds(process.env.CXX ?? 'c++', ['--version'])) skip('no C++ compiler to link with');
if (!succeeds('make', ['--version'])) skip('no make');
if (!succeeds('python3', ['--version'])) skip('no python3 for node-gyp');
const nodedir = nodeHeaders();
if (nodedir === null) skip("no local Node headers (include/node/node_api.h) and node-gyp's download is not used");

let nodeGyp;
try {
  nodeGyp = createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js');
} catch {
  skip('node-gyp is not installed (npm ci installs it)');
}

const gyp = (command) =>
  spawnSync(process.execPath, [nodeGyp, command, `--nodedir=${nodedir}`, '--loglevel=error'], {
    cwd: nativeDir,
    encoding: 'utf8',
  });
const built = join(nativeDir, 'build', 'Release', 'convsvc_blas.node');
// Incremental after the first build; a full rebuild when nothing was configured yet, or when the
// configured folder came from elsewhere (a copied tree: its Makefile names other paths).
let r = existsSync(join(nativeDir, 'build', 'Makefile')) ? gyp('build') : null;
if (r === null || r.status !== 0) r = gyp('rebuild');
if (r.status !== 0 || !existsSync(built)) {
  const lastLine = `${r.stderr ?? ''}${r.stdout ?? ''}`
    .trim()
    .split('\n')
    .filter((l) => /error/i.test(l))
    .pop();
  skip(`node-gyp rebuild failed${lastLine ? `: ${lastLine.trim().slice(0, 200)}` : ''}`);
}
mkdirSync(dirname(target), { recursive: true });
copyFileSync(built, target);
