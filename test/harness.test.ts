import assert from 'node:assert/strict';
import { execSync, spawnSync } from 'node:child_process';
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

  it('ends with every skipped test and its reason, so a skipped check cannot pass unnoticed', () => {
    assert.match(scripts.test, /--test-reporter=\.\/scripts\/skipped-reporter\.mjs/);
    const folder = mkdtempSync(join(tmpdir(), 'harness-'));
    const file = join(folder, 'some.test.mjs');
    writeFileSync(
      file,
      [
        "import { it } from 'node:test';",
        "it('runs', () => {});",
        "it('needs curl', { skip: 'curl is not installed' }, () => {});",
        "it('needs two cores', (t) => t.skip('one core'));",
      ].join('\n'),
    );
    const reporter = join(projectRoot, 'scripts', 'skipped-reporter.mjs');
    // Without NODE_TEST_CONTEXT, which would make the run report to this one instead of printing.
    const { NODE_TEST_CONTEXT: _, ...env } = process.env;
    const run = spawnSync(process.execPath, ['--test', `--test-reporter=${reporter}`, file], { encoding: 'utf8', env });
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /skipped \(2\), each with its reason:/);
    assert.match(run.stdout, /needs curl .*: curl is not installed/);
    assert.match(run.stdout, /needs two cores .*: one core/);
    assert.doesNotMatch(run.stdout, /- runs/);
  });
});
