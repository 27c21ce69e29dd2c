import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { type RunningServer, startServer } from '../../scripts/server-process.js';
import { projectRoot } from '../helpers/paths.js';

/** Every example, run as a user would against the built server on loopback. */
const run = promisify(execFile);
const entry = fileURLToPath(new URL('../../src/server.js', import.meta.url));
const examples = join(projectRoot, 'examples');

let server: RunningServer;
before(async () => {
  server = await startServer({ WORKERS: '1' }, { entry });
});
after(async () => {
  server.child.kill('SIGTERM');
  await server.exited;
});

const env = () => ({ PATH: process.env.PATH ?? '', CONVSVC_URL: server.url });

/** Debian's numpy and requests are for /usr/bin/python3; another python3 on PATH may lack them. */
const PYTHON = '/usr/bin/python3';
const pythonReady = spawnSync(PYTHON, ['-c', 'import numpy, requests'], { stdio: 'ignore' }).status === 0;
const curlReady = spawnSync('curl', ['--version'], { stdio: 'ignore' }).status === 0;

describe('examples/', () => {
  it('curl.sh: /v1 JSON and base64, /v2 JSON and binary all give the 5x5 transposed convolution', async (t) => {
    if (!curlReady) return t.skip('curl is not installed: the curl example was not run');
    const { stdout } = await run('bash', [join(examples, 'curl.sh')], { env: env(), timeout: 30_000 });
    const want = '[1,1,3,2,2,1,1,3,2,2,4,4,10,6,6,3,3,7,4,4,3,3,7,4,4]';
    assert.equal(stdout.split(want).length - 1, 3, `three JSON answers with the output:\n${stdout}`);
    assert.match(stdout, /"binary_data_size":100/);
    const binary = stdout.slice(stdout.indexOf('output (float32, row-major):'));
    assert.deepEqual(binary.split(/\s+/).slice(3).filter(Boolean).map(Number), JSON.parse(want));
  });

  it("client.ts: the typed client's /v1 and /v2 answers agree", async () => {
    const compiled = fileURLToPath(new URL('../../examples/client.js', import.meta.url));
    const { stdout } = await run(process.execPath, [compiled], { env: env(), timeout: 30_000 });
    assert.match(stdout, /\/v1 conv2d\/forward \(base64\): output \[2, 4, 4, 4\]/);
    assert.match(stdout, /\/v1 and \/v2 agree bit for bit/);
  });

  it('python_client.py: requests + numpy, /v1 base64 and /v2 binary agree', async (t) => {
    if (!pythonReady)
      return t.skip(
        `${PYTHON} with numpy and requests is not installed (Debian: python3-numpy python3-requests): the Python example was not run`,
      );
    const { stdout } = await run(PYTHON, [join(examples, 'python_client.py')], { env: env(), timeout: 60_000 });
    assert.match(stdout, /output \(2, 4, 16, 16\)/);
    assert.match(stdout, /\/v1 and \/v2 agree bit for bit/);
    assert.match(stdout, /columns \(2, 27, 36\)/);
  });
});
