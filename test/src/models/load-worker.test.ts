import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { toSafetensors } from '../../../client/index.js';
import { LayerError, shareTensor } from '../../../src/models/layer.js';
import { decodeWeightsFile, filesOfDirectory, saveLayerFiles } from '../../../src/models/layer-files.js';
import { findLoadValue, splitLoadBody } from '../../../src/models/load-body.js';
import load, { type LoadTask, loadLayerFiles } from '../../../src/models/load-worker.js';
import { parseSafetensors } from '../../../src/models/safetensors.js';
import { layerConfig, loadBody, safetensors } from '../../helpers/layers.js';

const CONFIG = JSON.stringify(layerConfig({ op: 'conv2d' }));
const FILE = safetensors({ weight: { shape: [2, 1, 3, 3], values: Float32Array.from({ length: 18 }, (_, i) => i) } });
/** A load task as src/models/layers.ts makes one: the body, and where findLoadValue found its base64. */
const task = (body: unknown, extra: Partial<LoadTask> = {}): LoadTask => {
  const bytes =
    body === undefined
      ? new Uint8Array(0)
      : new TextEncoder().encode(typeof body === 'string' ? body : JSON.stringify(body));
  return {
    body: bytes,
    value: bytes.length > 0 ? findLoadValue(bytes) : null,
    name: 'layer',
    repository: undefined,
    maxStoredBytes: 1 << 20,
    ...extra,
  };
};
const refused = (t: LoadTask, status: number, message: RegExp) =>
  assert.throws(
    () => loadLayerFiles(t),
    (e: unknown) => e instanceof LayerError && e.status === status && message.test(e.message),
  );

describe('the load thread', () => {
  it("reads a load request's config and base64 file into shared tensors", () => {
    const files = loadLayerFiles(task(loadBody(CONFIG, FILE)));
    assert.equal(files.configText, CONFIG);
    const [[name, weight]] = files.tensors;
    assert.equal(name, 'weight');
    assert.ok(weight.values.buffer instanceof SharedArrayBuffer);
    assert.deepEqual(
      [...weight.values],
      Array.from({ length: 18 }, (_, i) => i),
    );
  });

  it("keeps a file's tensors where the file holds them, in shared memory, however long its header; copies them only from memory it does not own", () => {
    const weight = { shape: [2, 1, 3, 3], values: Float32Array.from({ length: 18 }, (_, i) => i - 9) };
    const bias = { shape: [2], values: Float32Array.from([0.5, -0.25]) };
    const aligned = Buffer.from(toSafetensors({ weight, bias }));
    // The same tensors behind a header one byte longer than a multiple of 8, as a writer that
    // does not pad may leave it: read as it lies, no tensor would be aligned.
    const headerLength = Number(aligned.readBigUInt64LE(0));
    const head = Buffer.from(
      `${aligned
        .subarray(8, 8 + headerLength)
        .toString('latin1')
        .trimEnd()} `,
    );
    const shorter = (8 + head.length) % 8;
    const padded = Buffer.concat([head, Buffer.alloc((9 - shorter) % 8, ' ')]);
    assert.equal((8 + padded.length) % 8, 1);
    const length = Buffer.alloc(8);
    length.writeBigUInt64LE(BigInt(padded.length));
    const unaligned = Buffer.concat([length, padded, aligned.subarray(8 + headerLength)]);

    const dir = mkdtempSync(join(tmpdir(), 'layer-'));
    after(() => rmSync(dir, { recursive: true, force: true }));
    saveLayerFiles(join(dir, 'saved'), CONFIG, unaligned);
    for (const [how, files] of [
      ['padded, from base64', loadLayerFiles(task(loadBody(CONFIG, aligned)))],
      ['unpadded, from base64', loadLayerFiles(task(loadBody(CONFIG, unaligned)))],
      ['unpadded, from a directory', filesOfDirectory(join(dir, 'saved'), 'saved', 1 << 20)],
    ] as const) {
      const [w, b] = files.tensors.map(([, t]) => t);
      assert.ok(files.file && files.file.buffer instanceof SharedArrayBuffer, how);
      assert.equal(w.values.buffer, files.file.buffer, `${how}: the weight is a view of the file`);
      assert.equal(b.values.buffer, files.file.buffer, `${how}: so is the bias`);
      assert.deepEqual([...w.values], [...weight.values], how);
      assert.deepEqual([...b.values], [...bias.values], how);
    }

    const fromPlainMemory = shareTensor(parseSafetensors(unaligned).get('weight')!);
    assert.ok(fromPlainMemory.values.buffer instanceof SharedArrayBuffer);
    assert.equal(fromPlainMemory.values.byteOffset, 0, 'a copy');
    assert.deepEqual([...fromPlainMemory.values], [...weight.values]);
  });

  it("refuses bodies that are not the load API's: not JSON, unknown parameters, a file without config, bad base64, a file past MAX_STORED_BYTES", () => {
    refused(task('{'), 400, /not JSON/);
    refused(task({ parameters: { other: 'x' } }), 400, /does not match the schema/);
    refused(task({ parameters: { config: 1 } }), 400, /does not match the schema/);
    refused(
      task({ parameters: { 'file:1/model.safetensors': FILE.toString('base64') } }),
      400,
      /needs parameters\.config/,
    );
    refused(task({ parameters: { config: CONFIG, 'file:1/model.safetensors': 'abc' } }), 400, /not base64/);
    refused(task({ parameters: { config: CONFIG, 'file:1/model.safetensors': 'ab=c' } }), 400, /not base64/);
    const big = safetensors({ weight: { shape: [128, 1, 16, 16], values: new Float32Array(128 * 256) } });
    refused(task(loadBody(CONFIG, big), { maxStoredBytes: 1024 }), 413, /MAX_STORED_BYTES/);
    refused(task(loadBody(CONFIG, Buffer.from('junk'))), 400, /1\/model\.safetensors: /);
    refused(task(undefined), 400, /no MODEL_REPOSITORY/);
    // Beside the file, parameters of empty objects that would take 36 times their bytes parsed.
    const crowded = `{"parameters": {"config": ${JSON.stringify(CONFIG)}, "x": [${'{},'.repeat(400_000)}{}]}}`;
    refused(task(crowded), 400, /has more than \d+ arrays and objects in \d+ bytes/);
  });

  it('answers a refusal as data (status and message), not as a thrown error', () => {
    assert.deepEqual(load(task('{')), { refused: { status: 400, message: 'the body is not JSON' } });
  });

  it('reads a repository directory, with a configuration sent alone in place of its own', (t) => {
    const repository = mkdtempSync(join(tmpdir(), 'convsvc-repo-'));
    t.after(() => rmSync(repository, { recursive: true, force: true }));
    mkdirSync(join(repository, 'layer', '1'), { recursive: true });
    writeFileSync(join(repository, 'layer', 'config.json'), CONFIG);
    writeFileSync(join(repository, 'layer', '1', 'model.safetensors'), FILE);
    assert.equal(loadLayerFiles(task(undefined, { repository })).configText, CONFIG);
    const other = JSON.stringify(layerConfig({ op: 'conv2d', params: { groups: 1 } }));
    assert.equal(loadLayerFiles(task({ parameters: { config: other } }, { repository })).configText, other);
    refused(task(undefined, { repository, name: 'missing' }), 400, /no missing\/config\.json/);
  });

  it('saves a copy of the files for the other processes, whole: the directory appears only when complete', (t) => {
    const root = mkdtempSync(join(tmpdir(), 'convsvc-copies-'));
    t.after(() => rmSync(root, { recursive: true, force: true }));
    const saveTo = join(root, 'layer', 'v1');
    assert.ok('files' in load(task(loadBody(CONFIG, FILE), { saveTo })));
    assert.equal(readFileSync(join(saveTo, 'config.json'), 'utf8'), CONFIG);
    assert.deepEqual(readFileSync(join(saveTo, '1', 'model.safetensors')), FILE);
    assert.ok(!existsSync(`${saveTo}.partial`));
    assert.equal(loadLayerFiles(task(undefined, { directory: saveTo })).configText, CONFIG);
    // A file cannot be written where a file stands: nothing is left half-made.
    writeFileSync(join(root, 'blocked'), '');
    assert.throws(() => saveLayerFiles(join(root, 'blocked', 'v1'), CONFIG, FILE));
    assert.ok(!existsSync(join(root, 'blocked', 'v1')));
  });
});

describe('the load body split around its base64', () => {
  const body = (text: string) => new TextEncoder().encode(text);
  const b64 = FILE.toString('base64');

  it('finds the one base64 value and leaves JSON with "" in its place', () => {
    const bytes = body(JSON.stringify(loadBody(CONFIG, FILE)));
    const value = findLoadValue(bytes);
    assert.ok(value);
    const split = splitLoadBody(bytes, value);
    assert.equal(Buffer.from(split.base64).toString('latin1'), b64);
    assert.deepEqual(JSON.parse(split.rest.toString()), {
      parameters: { config: CONFIG, 'file:1/model.safetensors': '' },
    });
  });

  it('leaves to the whole parse what it cannot take apart safely, with the same outcome', () => {
    const cases = [
      // An escaped character in the key or the value, the key twice, the key as text in a string, no key.
      `{"parameters": {"config": ${JSON.stringify(CONFIG)}, "file:1\\/model.safetensors": "${b64}"}}`,
      `{"parameters": {"config": ${JSON.stringify(CONFIG)}, "file:1/model.safetensors": "\\u00${b64.charCodeAt(0).toString(16)}${b64.slice(1)}"}}`,
      `{"parameters": {"file:1/model.safetensors": "AAAA", "config": ${JSON.stringify(CONFIG)}, "file:1/model.safetensors": "${b64}"}}`,
      `{"parameters": {"config": ${JSON.stringify(CONFIG)}}, "x": "\\"file:1/model.safetensors\\": \\"AAAA\\""}`,
    ];
    for (const text of cases) {
      assert.equal(findLoadValue(body(text)), null, text.slice(0, 80));
      const whole = (() => {
        try {
          return JSON.stringify(loadLayerFiles(task(text)).tensors.map(([n, t]) => [n, [...t.values]]));
        } catch (err) {
          return (err as Error).message;
        }
      })();
      const parsed = (() => {
        try {
          const json = JSON.parse(text);
          const file = Buffer.from(json.parameters['file:1/model.safetensors'], 'base64');
          return JSON.stringify(
            loadLayerFiles(task(loadBody(json.parameters.config, file))).tensors.map(([n, t]) => [n, [...t.values]]),
          );
        } catch (err) {
          return (err as Error).message;
        }
      })();
      if (!whole.startsWith('the request does not match')) assert.equal(whole, parsed, text.slice(0, 80));
    }
  });

  it('decodes base64 longer than a piece, from bytes and from a string alike, and refuses padding inside it', () => {
    const big = Buffer.from(Float32Array.from({ length: 600_000 }, (_, i) => i).buffer);
    const text = big.toString('base64');
    assert.deepEqual(decodeWeightsFile(text, 1 << 22), big);
    assert.deepEqual(decodeWeightsFile(Buffer.from(text, 'latin1'), 1 << 22), big);
    const padded = `${text.slice(0, 4 * 2 ** 18 - 4)}AA==${text.slice(4 * 2 ** 18)}`;
    assert.throws(() => decodeWeightsFile(Buffer.from(padded, 'latin1'), 1 << 22), /not base64/);
  });
});
