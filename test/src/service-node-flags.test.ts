import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { SERVICE_NODE_FLAGS } from '../../src/service-node-flags.js';
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
