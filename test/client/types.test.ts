import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { committedDocument, renderClientTypes, TYPES_PATH } from '../../client/generate-types.js';

describe('client/openapi-types.ts', () => {
  it('is what openapi-typescript makes of openapi/openapi.json (run `npm run client:types` after `npm run openapi`)', async () => {
    assert.equal(readFileSync(TYPES_PATH, 'utf8'), await renderClientTypes(committedDocument()));
  });

  it('types every /v1 and /v2 path of the document', () => {
    const text = readFileSync(TYPES_PATH, 'utf8');
    const doc = committedDocument() as { paths: Record<string, unknown> };
    for (const path of Object.keys(doc.paths)) assert.ok(text.includes(`"${path}": {`), path);
    assert.ok(Object.keys(doc.paths).includes('/v2/models/{model_name}/infer'));
  });
});
