import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { build } from './helpers/build.js';
import { send } from './helpers/http.js';
import { projectRoot } from './helpers/paths.js';

const readme = readFileSync(join(projectRoot, 'README.md'), 'utf8');

describe('README', () => {
  it('has a two-line quick start whose test line is what .ci/run runs', () => {
    assert.match(readme, /^ {4}npm ci && npm start$/m);
    assert.match(readme, /^ {4}npm ci && npm test$/m);
    const ci = readFileSync(join(projectRoot, '.ci', 'run'), 'utf8');
    assert.match(ci, /^npm ci && npm test$/m);
  });

  it("shows a curl example for forward whose answer is the service's", async (t) => {
    const curl = /```sh\n(curl[\s\S]*?)```/.exec(readme)?.[1];
    assert.ok(curl, 'a curl example');
    const url = /localhost:8080(\/v1\/[\w/-]+)/.exec(curl)?.[1];
    const body = /-d '([\s\S]*?)'/.exec(curl)?.[1];
    const shown = /answers\n\n```json\n([\s\S]*?)\n```/.exec(readme)?.[1];
    assert.ok(url && body && shown);
    const app = await build(t);
    const res = await send(app, { method: 'POST', url, payload: JSON.parse(body) });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), JSON.parse(shown));
  });
});
