import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { acceptedByWorkers, workerExecArgv } from '../../src/worker-exec-argv.js';

describe("the kernel threads' flags", () => {
  it('keep the flags a worker thread accepts', () => {
    assert.deepEqual(acceptedByWorkers(['--enable-source-maps', '--no-deprecation']), [
      '--enable-source-maps',
      '--no-deprecation',
    ]);
  });

  it('leave out the V8 and per-process flags Node refuses in a worker, keeping the rest in order', () => {
    assert.deepEqual(
      acceptedByWorkers([
        '--max-old-space-size=1024',
        '--enable-source-maps',
        '--initial-heap-size=64',
        '--title=convsvc',
        '--no-deprecation',
      ]),
      ['--enable-source-maps', '--no-deprecation'],
    );
  });

  it('ask nothing of Node when there are no flags', () => {
    assert.deepEqual(acceptedByWorkers([]), []);
  });

  it('always turn off require(esm) where Node has it', () => {
    if (process.allowedNodeEnvironmentFlags.has('--no-experimental-require-module'))
      assert.ok(workerExecArgv().includes('--no-experimental-require-module'));
    else assert.ok(!workerExecArgv().includes('--no-experimental-require-module'));
  });
});
