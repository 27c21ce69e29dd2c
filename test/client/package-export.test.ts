import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as client from '../../client/index.js';
import { projectRoot } from '../helpers/paths.js';

/** `import ... from 'convsvc/client'`: the package's exports map points at the client. */
const pkg = JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8'));
const target = pkg.exports?.['./client'];

describe('the package export convsvc/client', () => {
  it("gives the client's source for types and its build for code", () => {
    assert.equal(target.types, './client/index.ts');
    assert.ok(existsSync(join(projectRoot, target.types)));
    assert.equal(target.default, './dist/client/index.js', 'where `npm run build` and `npm test` put client/index.ts');
  });

  it('resolves by the package name to that build', () => {
    assert.equal(import.meta.resolve('convsvc/client'), pathToFileURL(join(projectRoot, target.default)).href);
  });

  it('loads the same client when the suite runs from the build the export names', async (t) => {
    const here = relative(projectRoot, fileURLToPath(import.meta.url));
    if (!here.startsWith(`dist${'/'}`)) {
      t.skip(`this run is compiled to ${here.split('/')[0]}/, not dist/: the export is loaded only by \`npm test\``);
      return;
    }
    const exported = await import('convsvc/client' as string);
    assert.deepEqual(Object.keys(exported).sort(), Object.keys(client).sort());
    assert.equal(typeof exported.createConvsvcClient, 'function');
  });
});
