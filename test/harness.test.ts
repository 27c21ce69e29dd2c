import assert from 'node:assert/strict';
import { execSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { projectRoot } from './helpers/paths.js';

const scripts = JSON.parse(execSync('npm pkg get scripts', { cwd: projectRoot, encoding: 'utf8' })) as Record<
  string,
  string
>;

describe('npm test', () => {
  it('clears the compiled tests before compiling them, so a deleted or renamed test cannot run from a stale copy', () => {
    const steps = scripts.test.split('&&').map((s) => s.trim());
    const clear = steps.findIndex((s) => s.includes("rmSync('dist/test'"));
    const compile = steps.findIndex((s) => s.startsWith('tsc -p tsconfig.json'));
    assert.ok(clear >= 0 && clear < compile, scripts.test);
    // The step itself removes a compiled test whose source is gone (run in a folder of its own:
    // here it would remove the suite that is running).
    const folder = mkdtempSync(join(tmpdir(), 'harness-'));
    const stale = join(folder, 'dist', 'test', 'renamed', 'gone.test.js');
    mkdirSync(join(stale, '..'), { recursive: true });
    writeFileSync(stale, '');
    execSync(steps[clear], { cwd: folder, stdio: 'ignore' });
    assert.equal(existsSync(stale), false);
  });
});
