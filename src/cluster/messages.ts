import type { MetricObjectWithValues, MetricValue } from 'prom-client';
import type { ModelStat } from '../models/stats.js';

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

/** A server process asks for the statistics of these models over the whole service. */
export interface StatsQuestion {
  readonly convsvc: 'stats?';
  readonly id: number;
  readonly names: readonly string[];
}

/** Each server process's statistics of the models asked for, for the asker to add up. */
export interface StatsAnswer {
  readonly convsvc: 'stats';
  readonly id: number;
  readonly shares: readonly (readonly ModelStat[])[];
}

/** The primary asks a server process for its own statistics of these models. */
export interface StatShareQuestion {
  readonly convsvc: 'stat-share?';
  readonly id: number;
  readonly names: readonly string[];
}

export interface StatShareAnswer {
  readonly convsvc: 'stat-share';
  readonly id: number;
  readonly stats: readonly ModelStat[];
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

/**
 * A server process has loaded (or unloaded) a stored layer and asks the primary to have every
 * process serve that version; a load names the directory it saved the layer's files in, so no
 * weight travels over IPC.
 */
export interface LayerQuestion {
  readonly convsvc: 'layer?';
  readonly id: number;
  readonly action: 'load' | 'unload';
  readonly name: string;
  readonly directory?: string;
  /** Where the asker's version before this change came from (absent: it served none), should the change be undone. */
  readonly previous?: string;
}

/** ...the primary orders every process (the asker too) to serve it, one change of a name at a time... */
export interface LayerOrder {
  readonly convsvc: 'layer!';
  readonly id: number;
  readonly action: 'load' | 'unload';
  readonly name: string;
  readonly directory?: string;
}

/** ...each says when it has (or why it could not)... */
export interface LayerDone {
  readonly convsvc: 'layer-done';
  readonly id: number;
  readonly error?: string;
}

/** ...and the asker hears once all of them have, or (`error`) that one could not and every process was ordered back. */
export interface LayerAnswer {
  readonly convsvc: 'layer';
  readonly id: number;
  readonly error?: string;
}

/** A starting server process asks which layers the others serve (loaded or unloaded since start). */
export interface LayersQuestion {
  readonly convsvc: 'layers?';
  readonly id: number;
}

export interface LayersAnswer {
  readonly convsvc: 'layers';
  readonly id: number;
  /** In the order they happened; `directory` null: unloaded. */
  readonly layers: readonly { readonly name: string; readonly directory: string | null }[];
}

export type ToPrimary =
  | MetricsQuestion
  | ShareAnswer
  | StatsQuestion
  | StatShareAnswer
  | RateQuestion
  | SlotQuestion
  | SlotFree
  | LayerQuestion
  | LayerDone
  | LayersQuestion;
export type ToServer =
  | ClusterState
  | MetricsAnswer
  | ShareQuestion
  | StatsAnswer
  | StatShareQuestion
  | RateAnswer
  | SlotGranted
  | LayerOrder
  | LayerAnswer
  | LayersAnswer;

/** Whether an IPC message is one of ours. */
export function isOurs<T extends { convsvc: string }>(message: unknown): message is T {
  return (
    typeof message === 'object' && message !== null && typeof (message as { convsvc?: unknown }).convsvc === 'string'
  );
}
