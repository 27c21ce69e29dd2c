import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { availableCores, cgroupCpuQuota } from '../../src/cpu-limit.js';

/** Fake cgroup files: v2's cpu.max and v1's quota and period, each written only when given. */
function cgroup(files: { v2?: string; v1Quota?: string; v1Period?: string }) {
  const dir = mkdtempSync(join(tmpdir(), 'cpu-'));
  const at = (name: string, text?: string) => {
    const path = join(dir, name);
    if (text !== undefined) writeFileSync(path, `${text}\n`);
    return path;
  };
  return {
    v2: at('cpu.max', files.v2),
    v1Quota: at('cpu.cfs_quota_us', files.v1Quota),
    v1Period: at('cpu.cfs_period_us', files.v1Period),
  } as const;
}

describe('the CPU quota of a container', () => {
  it("reads cgroup v2's quota and period, in cores", () => {
    assert.equal(cgroupCpuQuota(cgroup({ v2: '150000 100000' })), 1.5);
  });

  it('reads no quota from "max", and none when no file is there', () => {
    assert.equal(cgroupCpuQuota(cgroup({ v2: 'max 100000' })), null);
    assert.equal(cgroupCpuQuota(cgroup({})), null);
  });

  it('reads cgroup v1 when v2 is absent, and its -1 as none', () => {
    assert.equal(cgroupCpuQuota(cgroup({ v1Quota: '200000', v1Period: '100000' })), 2);
    assert.equal(cgroupCpuQuota(cgroup({ v1Quota: '-1', v1Period: '100000' })), null);
  });
});

describe('the cores this process may keep busy', () => {
  it('are the CPUs it may run on when no quota is set', () => {
    assert.equal(availableCores({ cpus: 16, quota: null }), 16);
  });

  it('are the quota rounded up, when it is below them (Kubernetes limits.cpu: 1500m on a 16-core host)', () => {
    assert.equal(availableCores({ cpus: 16, quota: 1.5 }), 2);
    assert.equal(availableCores({ cpus: 16, quota: 0.25 }), 1);
  });

  it('are never more than the CPUs, whatever the quota', () => {
    assert.equal(availableCores({ cpus: 2, quota: 8 }), 2);
  });
});
