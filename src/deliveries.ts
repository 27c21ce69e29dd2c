import { type PaceRules, slowRate } from './pace.js';
import { Watchlist } from './watchlist.js';

/**
 * Where an answer is going. A transport tells what of the answer this process still holds, when
 * it can: Node's HTTP/1.1 socket can (its queue shrinks as the client reads), an HTTP/2 stream
 * cannot (it hands over each write whole, once the client's flow-control window allows).
 */
export interface Recipient {
  /** Bytes of the answer still waiting in this process; null where the transport does not tell. */
  pending(): number | null;
  /** Ends the answer's connection or stream: the client will not get it. */
  cut(why: string): void;
}

export interface DeliveryRules extends PaceRules {
  /** How long an answer may take to be taken whole, from when it is handed over (REQUEST_TIMEOUT_MS). */
  readonly deadlineMs: number;
}

/** An answer being taken; `end` once it has been, or its connection or stream has closed. */
export class Delivery {
  markAt: number;
  markBytes = 0;
  /** Bytes the client has taken so far, as far as `pending` shows. */
  taken = 0;
  last: number | null = null;

  constructor(
    readonly active: Watchlist<Delivery>,
    readonly recipient: Recipient,
    readonly deadline: number,
    now: number,
  ) {
    this.markAt = now;
  }

  end(): void {
    this.active.delete(this);
  }
}

/**
 * Answers their clients have not yet taken, each watched as a body arriving is (src/uploads.ts):
 * a client that stops reading would otherwise keep its answer, and with it the request's memory
 * charge and pool slot, for as long as it kept its connection open. An answer not taken within
 * the deadline, or taken slower than the minimum pace where the transport shows its progress, is
 * cut: its connection or stream is closed and what the request held is given back.
 */
export class Deliveries {
  readonly #rules: DeliveryRules;
  readonly #active: Watchlist<Delivery> = new Watchlist((delivery, now) => this.#look(delivery, now));
  #cut = 0;

  constructor(rules: DeliveryRules) {
    this.#rules = rules;
  }

  /** Answers being taken now. */
  get size(): number {
    return this.#active.size;
  }

  /** Answers cut since start. */
  get cut(): number {
    return this.#cut;
  }

  /** Watches an answer handed over now. */
  start(recipient: Recipient): Delivery {
    const now = performance.now();
    const delivery = new Delivery(this.#active, recipient, now + this.#rules.deadlineMs, now);
    this.#active.add(delivery);
    return delivery;
  }

  #look(delivery: Delivery, now: number): void {
    const { minBytesPerSecond, windowMs } = this.#rules;
    let why: string | null = null;
    if (now >= delivery.deadline) {
      why = "the client did not take its answer within the request's deadline (REQUEST_TIMEOUT_MS)";
    } else {
      const pending = delivery.recipient.pending();
      if (pending === 0 || pending === null) {
        // Nothing held here (the network has the rest), or no way to tell: only the deadline.
        delivery.markAt = now;
        delivery.markBytes = delivery.taken;
      } else {
        if (delivery.last !== null && pending < delivery.last) delivery.taken += delivery.last - pending;
        delivery.last = pending;
        const rate = slowRate(this.#rules, delivery, delivery.taken, now);
        if (rate !== null)
          why = `the client took its answer at ${Math.round(rate)} bytes/s over ${windowMs} ms, below the minimum of ${minBytesPerSecond} (MIN_BODY_BYTES_PER_SECOND)`;
      }
    }
    if (why !== null) {
      delivery.end();
      this.#cut++;
      delivery.recipient.cut(why);
    }
  }
}
