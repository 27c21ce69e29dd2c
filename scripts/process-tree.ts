/** A process and its children (a primary's server processes), read from Linux's /proc. */
import { readdirSync, readFileSync } from 'node:fs';

/** The pids of a process's children. */
export function childrenOf(pid: number): number[] {
  return readdirSync('/proc').flatMap((entry) => {
    if (!/^\d+$/.test(entry)) return [];
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // The fields after the command's closing parenthesis: state, then the parent's pid.
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid ? [Number(entry)] : [];
    } catch {
      return [];
    }
  });
}

/** A field of /proc/<pid>/status in bytes (VmRSS: resident now; VmHWM: its peak), 0 for a process gone. */
function statusBytes(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  try {
    return (
      Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024
    );
  } catch {
    return 0;
  }
}

/** Resident bytes of a process and its children, now and the sum of their peaks. */
export function treeMemory(pid: number): { rss: number; peaks: number } {
  const pids = [pid, ...childrenOf(pid)];
  return {
    rss: pids.reduce((n, p) => n + statusBytes(p, 'VmRSS'), 0),
    peaks: pids.reduce((n, p) => n + statusBytes(p, 'VmHWM'), 0),
  };
}
