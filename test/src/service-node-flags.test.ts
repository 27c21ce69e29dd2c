import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { applyRuntimeV8Flags, SERVICE_NODE_FLAGS } from '../../src/service-node-flags.js';
import { parseDockerfile } from '../helpers/dockerfile.js';
import { projectRoot } from '../helpers/paths.js';

describe("the service's Node flags", () => {
  it('are what npm start runs the server with', () => {
    const { scripts } = JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    assert.ok(
      scripts.start.endsWith(`&& ${['node', ...SERVICE_NODE_FLAGS, 'dist/src/server.js'].join(' ')}`),
      scripts.start,
    );
  });

  it("are what the Dockerfile's CMD runs the server with", () => {
    const stages = parseDockerfile(join(projectRoot, 'Dockerfile'));
    const cmd = stages[stages.length - 1].instructions.find((i) => i.keyword === 'CMD')?.args ?? '';
    assert.deepEqual(JSON.parse(cmd), ['node', ...SERVICE_NODE_FLAGS, 'dist/src/server.js']);
  });
});

describe("the service's runtime V8 flag", () => {
  const applied = (v8: string, execArgv: string[] = []) => {
    const set: string[] = [];
    const did = applyRuntimeV8Flags(v8, execArgv, (f) => set.push(f));
    assert.equal(did, set.length === 1);
    return set;
  };

  it('is set on the V8 it was measured on and later ones', () => {
    assert.deepEqual(applied('14.6.202.34-node.40'), ['--external-memory-accounted-in-global-limit']);
    assert.deepEqual(applied('15.0.1'), ['--external-memory-accounted-in-global-limit']);
  });

  it('is left alone on a V8 that would not know it (Node 20)', () => {
    assert.deepEqual(applied('11.3.244.8-node.38'), []);
  });

  it('gives way to the command line, either way and in either spelling', () => {
    for (const arg of [
      '--no-external-memory-accounted-in-global-limit',
      '--external-memory-accounted-in-global-limit',
      '--no_external_memory_accounted_in_global_limit',
    ]) {
      assert.deepEqual(applied('14.6.202.34', ['--initial-heap-size=64', arg]), [], arg);
    }
  });
});
