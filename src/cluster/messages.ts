import type { MetricObjectWithValues, MetricValue } from 'prom-client';

/** One registry's metrics as prom-client writes them out to be aggregated. */
export type SharedMetrics = MetricObjectWithValues<MetricValue<string>>[];

/**
 * What the primary and its server processes say to each other over cluster's IPC channel. Every
 * message of ours carries a `convsvc` tag, so Node's own messages on the same channel pass by.
 */

/** The primary's view of the service, sent to every server process whenever it changes. */
export interface ClusterState {
  readonly convsvc: 'state';
  /** Server processes listening now. */
  readonly up: number;
  /** Server processes the service should have (HTTP_PROCESSES). */
  readonly of: number;
  /** The primary got SIGTERM / SIGINT: every process is draining. */
  readonly draining: boolean;
}

/** A server process asks for the metrics of the whole service. */
export interface MetricsQuestion {
  readonly convsvc: 'metrics?';
  readonly id: number;
}

export interface MetricsAnswer {
  readonly convsvc: 'metrics';
  readonly id: number;
  readonly text?: string;
  readonly error?: string;
}

/** The primary asks a server process for its own metrics, to add them up. */
export interface ShareQuestion {
  readonly convsvc: 'share?';
  readonly id: number;
}

export interface ShareAnswer {
  readonly convsvc: 'share';
  readonly id: number;
  readonly metrics: SharedMetrics;
}

/** A server process counts one request of a client against the service-wide rate limit. */
export interface RateQuestion {
  readonly convsvc: 'rate?';
  readonly id: number;
  readonly key: string;
  readonly windowMs: number;
  readonly max: number;
}

export interface RateAnswer {
  readonly convsvc: 'rate';
  readonly id: number;
  readonly current: number;
  readonly ttl: number;
}

/** A server process asks for one of the host's kernel slots (src/cluster/kernel-slots.ts)... */
export interface SlotQuestion {
  readonly convsvc: 'slot?';
  readonly id: number;
}

/** ...the primary grants it... */
export interface SlotGranted {
  readonly convsvc: 'slot';
  readonly id: number;
}

/** ...and the process gives it back when its task is done, or withdraws the ask when its task was cancelled. */
export interface SlotFree {
  readonly convsvc: 'slot-free';
  readonly id: number;
}

export type ToPrimary = MetricsQuestion | ShareAnswer | RateQuestion | SlotQuestion | SlotFree;
export type ToServer = ClusterState | MetricsAnswer | ShareQuestion | RateAnswer | SlotGranted;

/** Whether an IPC message is one of ours. */
export function isOurs<T extends { convsvc: string }>(message: unknown): message is T {
  return (
    typeof message === 'object' && message !== null && typeof (message as { convsvc?: unknown }).convsvc === 'string'
  );
}
