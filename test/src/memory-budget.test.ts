import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  deriveBudget,
  MemoryBudget,
  PRIMARY_BASE_BYTES,
  PROCESS_BASE_BYTES,
  WORKER_BASE_BYTES,
} from '../../src/memory-budget.js';
import type { ProblemError } from '../../src/problems.js';

const MiB = 2 ** 20;
const GiB = 2 ** 30;

/** A folder of fake cgroup files: name -> content. */
function cgroupFiles(files: Record<string, string>): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'cgroup-'));
  return Object.entries(files).map(([name, text]) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  });
}

const idle = (workers: number) => PROCESS_BASE_BYTES + workers * WORKER_BASE_BYTES;

describe('deriveBudget', () => {
  it('takes MEMORY_BUDGET_BYTES as it is', () => {
    assert.deepEqual(deriveBudget({ configured: GiB, workers: 2 }), { bytes: GiB, source: 'MEMORY_BUDGET_BYTES' });
  });

  it('gives each of several server processes an equal share of MEMORY_BUDGET_BYTES', () => {
    assert.deepEqual(deriveBudget({ configured: GiB, workers: 2, processes: 4 }), {
      bytes: GiB / 4,
      source: 'MEMORY_BUDGET_BYTES / 4 server processes',
    });
  });

  it('gives each of several server processes an equal share of the limit, less the primary, then less its own idle process', () => {
    const files = cgroupFiles({ 'memory.max': `${2 * GiB}\n` });
    const b = deriveBudget({
      workers: 2,
      processes: 2,
      limitFiles: files,
      machineBytes: 24 * GiB,
      heapLimitBytes: 4 * GiB,
    });
    assert.equal(b.bytes, (2 * GiB - PRIMARY_BASE_BYTES) / 2 - idle(2));
    assert.match(b.source, /less 64 MiB for the primary \/ 2 server processes, 992 MiB, less 288 MiB/);
  });

  it("sets aside each server process's stored layers (MAX_STORED_BYTES) from a derived budget, not from MEMORY_BUDGET_BYTES", () => {
    const files = cgroupFiles({ 'memory.max': `${2 * GiB}\n` });
    const b = deriveBudget({
      workers: 2,
      processes: 2,
      storedBytes: 256 * MiB,
      limitFiles: files,
      machineBytes: 24 * GiB,
      heapLimitBytes: 4 * GiB,
    });
    assert.equal(b.bytes, (2 * GiB - PRIMARY_BASE_BYTES) / 2 - 256 * MiB - idle(2));
    assert.match(
      b.source,
      /\/ 2 server processes less 256 MiB for stored layers \(MAX_STORED_BYTES\), 736 MiB, less 288 MiB/,
    );
    assert.equal(deriveBudget({ configured: GiB, workers: 2, processes: 2, storedBytes: 256 * MiB }).bytes, GiB / 2);
  });

  it("takes a container's cgroup v2 limit, less the idle process and its threads", () => {
    const files = cgroupFiles({ 'memory.max': `${768 * MiB}\n` });
    const b = deriveBudget({ workers: 2, limitFiles: files, machineBytes: 24 * GiB, heapLimitBytes: 4 * GiB });
    assert.equal(b.bytes, 768 * MiB - idle(2));
    assert.match(b.source, /cgroup limit in .*memory\.max, 768 MiB, less 288 MiB/);
  });

  it('reads cgroup v1 when v2 sets no limit, and takes v1\'s huge "unlimited" as none', () => {
    const [v2, v1] = cgroupFiles({ 'memory.max': 'max\n', 'memory.limit_in_bytes': `${GiB}\n` });
    assert.equal(
      deriveBudget({ workers: 1, limitFiles: [v2, v1], machineBytes: 24 * GiB, heapLimitBytes: 4 * GiB }).bytes,
      GiB - idle(1),
    );
    const [unlimited] = cgroupFiles({ 'memory.limit_in_bytes': '9223372036854771712\n' });
    const b = deriveBudget({ workers: 1, limitFiles: [unlimited], machineBytes: 2 * GiB, heapLimitBytes: 4 * GiB });
    assert.equal(b.bytes, 2 * GiB - idle(1));
    assert.match(b.source, /machine's memory/);
  });

  it("never goes past V8's heap limit, and falls back to the machine when no file can be read", () => {
    const b = deriveBudget({
      workers: 2,
      limitFiles: ['/nonexistent/memory.max'],
      machineBytes: 24 * GiB,
      heapLimitBytes: 4 * GiB,
    });
    assert.equal(b.bytes, 4 * GiB - idle(2));
    assert.match(b.source, /V8's heap limit/);
  });
});

describe('MemoryBudget', () => {
  it('charges and gives back, refusing what does not fit now (503) or ever (413)', () => {
    const budget = new MemoryBudget(100);
    const a = budget.open();
    a.set(60, 'a');
    const b = budget.open();
    assert.throws(
      () => b.set(50, 'b'),
      (e: ProblemError) => e.status === 503 && e.headers['retry-after'] === '1',
    );
    assert.equal(b.bytes, 0, 'a refused charge stays as it was');
    assert.throws(
      () => b.set(101, 'b'),
      (e: ProblemError) => e.status === 413,
    );
    assert.throws(
      () => budget.check(41, 'c'),
      (e: ProblemError) => e.status === 503,
    );
    b.set(40, 'b');
    assert.equal(budget.charged, 100);
    a.set(10, 'a');
    assert.equal(budget.charged, 50, 'a charge may shrink');
    a.release();
    a.release();
    a.set(30, 'a');
    assert.equal(budget.charged, 40, 'released once, and stays released');
    assert.equal(budget.refusals, 3);
  });
});
