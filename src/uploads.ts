import { type PaceRules, slowRate } from './pace.js';
import { ProblemError } from './problems.js';
import { CHECK_MS, Watchlist } from './watchlist.js';

/**
 * Request bodies still arriving, each watched for its deadline and its rate. A client controls how
 * fast its body comes; without these bounds a socket sending a byte a second would hold whatever
 * its request holds for as long as it liked.
 */
/** Below `minBytesPerSecond` on average over `windowMs`, a body still arriving is cut off (408). */
export type UploadRules = PaceRules;

/** A body being received: told of its progress, ended when it is whole or refused. */
export interface Upload {
  progress(received: number): void;
  end(): void;
}

interface Watched {
  readonly deadline: number;
  readonly abort: (err: ProblemError) => void;
  received: number;
  markAt: number;
  markBytes: number;
}

/** Ends a body's connection after its answer: the rest of a cut-off body is not worth reading. */
const closing = { connection: 'close' };

export class Uploads {
  readonly #rules: UploadRules;
  readonly #active: Watchlist<Watched> = new Watchlist((watched, now) => this.#look(watched, now));

  constructor(rules: UploadRules) {
    this.#rules = rules;
  }

  /** Bodies arriving now. */
  get size(): number {
    return this.#active.size;
  }

  /**
   * Watches a body from now: past `deadline` (a performance.now() time) or below the minimum rate,
   * `abort` is called once with the 408 to answer.
   */
  start(deadline: number, abort: (err: ProblemError) => void): Upload {
    const now = performance.now();
    const watched: Watched = { deadline, abort, received: 0, markAt: now, markBytes: 0 };
    this.#active.add(watched);
    return {
      progress: (received) => {
        watched.received = received;
      },
      end: () => this.#active.delete(watched),
    };
  }

  /** Resolves once no body is arriving, or after `ms`, whichever comes first. */
  async settled(ms: number): Promise<void> {
    const until = performance.now() + ms;
    while (this.#active.size > 0 && performance.now() < until)
      await new Promise((r) => setTimeout(r, Math.min(CHECK_MS / 5, ms)));
  }

  /** Ends every body still arriving with `err` (shutdown: their clients get it at once). */
  abortAll(err: ProblemError): void {
    for (const watched of this.#active.items()) {
      this.#active.delete(watched);
      watched.abort(err);
    }
  }

  #look(watched: Watched, now: number): void {
    const { minBytesPerSecond, windowMs } = this.#rules;
    let why: string | null = null;
    if (now >= watched.deadline) {
      why = "the body did not arrive within the request's deadline (REQUEST_TIMEOUT_MS)";
    } else {
      const rate = slowRate(this.#rules, watched, watched.received, now);
      if (rate !== null)
        why = `the body arrived at ${Math.round(rate)} bytes/s over ${windowMs} ms, below the minimum of ${minBytesPerSecond} (MIN_BODY_BYTES_PER_SECOND)`;
    }
    if (why !== null) {
      this.#active.delete(watched);
      watched.abort(new ProblemError('request-timeout', why, undefined, closing));
    }
  }
}
