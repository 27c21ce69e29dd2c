import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { nginxConfig } from '../../scripts/scale-out.js';
import { projectRoot } from '../helpers/paths.js';

const retryLine = (conf: string) => /proxy_next_upstream [^;]*;/.exec(conf)?.[0];

describe('scripts/scale-out', () => {
  it('puts every replica behind nginx with the retry policy of deploy/nginx.conf', () => {
    const conf = nginxConfig('/tmp/x', 9000, [9001, 9002, 9003]);
    for (const p of [9001, 9002, 9003]) assert.match(conf, new RegExp(`server 127\\.0\\.0\\.1:${p}\\b`));
    assert.match(conf, /listen 127\.0\.0\.1:9000;/);
    assert.equal(retryLine(conf), retryLine(readFileSync(join(projectRoot, 'deploy', 'nginx.conf'), 'utf8')));
    assert.match(retryLine(conf)!, /http_503.*non_idempotent/);
  });

  it('loses no request when a replica is stopped mid-run (short run; needs nginx)', async (t) => {
    if (spawnSync('nginx', ['-v'], { stdio: 'ignore' }).status !== 0) {
      return t.skip('nginx is not installed (Debian: apt-get install nginx): the scale-out run was not made');
    }
    const script = fileURLToPath(new URL('../../scripts/scale-out.js', import.meta.url));
    const env = { PATH: process.env.PATH ?? '', REPLICAS: '2', SECONDS: '3', CONNECTIONS: '4' };
    const { stdout } = await promisify(execFile)(process.execPath, [script], { env, timeout: 60_000 });
    assert.match(stdout, /failed: +0 /);
    assert.match(stdout, /stopped replica: +exit code 0/);
    assert.match(stdout, /requests: +(\d+) \(\1 2xx\)/);
  });
});
