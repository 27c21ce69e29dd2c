import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

export interface CpuQuotaFiles {
  readonly v2: string;
  readonly v1Quota: string;
  readonly v1Period: string;
}

/** cgroup v2's quota file ("max 100000" or "<quota> <period>"), then v1's pair. */
export const CGROUP_CPU_FILES: CpuQuotaFiles = {
  v2: '/sys/fs/cgroup/cpu.max',
  v1Quota: '/sys/fs/cgroup/cpu/cpu.cfs_quota_us',
  v1Period: '/sys/fs/cgroup/cpu/cpu.cfs_period_us',
};

/** A cgroup file's text, trimmed; null when it cannot be read (no such controller, no cgroup). */
export function readCgroupFile(path: string): string | null {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return null;
  }
}

/** The container's CPU quota in cores (fractional), or null when none is set. */
export function cgroupCpuQuota(files: CpuQuotaFiles = CGROUP_CPU_FILES): number | null {
  const v2 = readCgroupFile(files.v2);
  if (v2 !== null) {
    const [quota, period] = v2.split(/\s+/);
    if (quota === 'max' || !/^\d+$/.test(quota ?? '') || !/^\d+$/.test(period ?? '')) return null;
    return Number(period) > 0 ? Number(quota) / Number(period) : null;
  }
  const quota = readCgroupFile(files.v1Quota);
  const period = readCgroupFile(files.v1Period);
  if (quota === null || period === null || !/^\d+$/.test(quota) || !/^\d+$/.test(period)) return null; // -1: none
  return Number(period) > 0 ? Number(quota) / Number(period) : null;
}

/**
 * The cores this process may keep busy: the CPUs it may run on, and no more than its container's
 * CPU quota rounded up (Kubernetes' `limits.cpu`, compose's `cpus`). Node's own
 * availableParallelism sees the first only, so a 2-CPU container on a 64-core host would start
 * 64 server processes and 64 kernel threads each.
 */
export function availableCores(facts: { cpus?: number; quota?: number | null } = {}): number {
  const cpus = facts.cpus ?? availableParallelism();
  const quota = facts.quota === undefined ? cgroupCpuQuota() : facts.quota;
  return quota === null ? cpus : Math.max(1, Math.min(cpus, Math.ceil(quota)));
}
