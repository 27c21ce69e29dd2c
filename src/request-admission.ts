import type { Charge, MemoryBudget } from './memory-budget.js';
import { answerCost, type BodyCost, type Encoding } from './memory-model.js';
import type { KernelPool } from './pool.js';
import type { ProblemError } from './problems.js';
import type { Upload, Uploads } from './uploads.js';

export interface AdmissionContext {
  readonly pool: KernelPool;
  readonly budget: MemoryBudget;
  readonly uploads: Uploads;
  readonly requestTimeoutMs: number;
}

/**
 * One op request's admission, from its headers to its answer (src/plugins/admission.ts):
 * - its deadline runs from its first byte, so a slow upload spends the request's own time;
 * - its memory charge grows as its body arrives (its expected cost, in proportion), then becomes
 *   at least what the parsed body and its answer are expected to hold (the share taken so far is
 *   kept while it parses), trued up to the body's and the answer's once the answer's size is
 *   planned (src/memory-model.ts);
 * - it takes a pool slot only once its body is whole and valid, so a client that trickles its
 *   body holds no slot, and little memory (what it has sent).
 * Everything is given back when the answer has been written or the connection closed: when the
 * last of its holders (the transport, and a handler it was handed to: `retain`) releases it.
 */
export class RequestAdmission {
  readonly deadline: number;
  readonly #ctx: AdmissionContext;
  readonly #charge: Charge;
  #answerEncoding: Encoding = 'jsonNumbers';
  /** What the parsed body holds, without its answer. */
  #bodyBytes = 0;
  #releaseSlot: (() => void) | null = null;
  #upload: Upload | null = null;
  #holders = 1;

  /** What the body is expected to hold, per byte received, until it is whole. */
  readonly #perByte: number;

  /** `expected`: what a body of `declared` bytes is expected to hold (src/memory-model.ts). */
  constructor(ctx: AdmissionContext, expected: { bytes: number; declared: number }, startedAt = performance.now()) {
    this.#ctx = ctx;
    // Capped at the budget: a body dearer than the whole budget as JSON numbers may yet be base64.
    this.#perByte = Math.min(expected.bytes, ctx.budget.total) / Math.max(1, expected.declared);
    this.deadline = startedAt + ctx.requestTimeoutMs;
    this.#charge = ctx.budget.open();
  }

  /** Milliseconds left before the deadline (at least 1: a timer of 0 would never fire first). */
  remainingMs(): number {
    return Math.max(1, this.deadline - performance.now());
  }

  /** The body starts arriving: watched for the deadline, the minimum rate and shutdown. */
  startUpload(abort: (err: ProblemError) => void): void {
    this.#upload = this.#ctx.uploads.start(this.deadline, abort);
  }

  /** The body has stopped arriving (whole, or its sender done): no longer watched; its share is kept. */
  endUpload(): void {
    this.#upload?.end();
    this.#upload = null;
  }

  /**
   * `bytes` of body have arrived: the body is charged its expected cost in proportion, so a body
   * that trickles in holds little and one that comes fast holds its share before it is parsed.
   * Throws past the budget (503): a refusal as early as the contention, not after the upload.
   */
  received(bytes: number): void {
    this.#upload?.progress(bytes);
    const share = Math.ceil(bytes * this.#perByte);
    if (share > this.#charge.bytes) this.#charge.set(share, "this request's body");
  }

  /**
   * The body is whole: from now on it is charged what parsing and decoding it will hold, and an
   * answer as large as its tensors, all at once, so a request that gets this far does not run out
   * of room half-way. Throws past the budget (503, or 413 if it could never fit).
   */
  bodyComplete(cost: BodyCost): void {
    this.endUpload();
    this.#answerEncoding = cost.answer;
    this.#bodyBytes = cost.bytes;
    this.#charge.set(
      Math.max(cost.bytes + answerCost(cost.tensorBytes, cost.answer), this.#charge.bytes),
      'this request and its answer',
    );
  }

  /**
   * Parsing the body will hold `bytes` more than bodyComplete's cost said (a JSON text of many
   * short values: src/memory-model.ts, denseJsonExtra): charged before the parse, and kept with
   * the body's. Throws past the budget (503, or 413 if it could never fit).
   */
  parsing(bytes: number): void {
    if (bytes <= 0) return;
    this.#charge.set(this.#charge.bytes + bytes, 'this request and its answer');
    this.#bodyBytes += bytes;
  }

  /**
   * The answer's tensors will take `resultBytes` (planned from the shapes): the charge becomes the
   * body's and this answer's. Throws only when an answer larger than expected has no room.
   */
  answer(resultBytes: number): void {
    this.#charge.set(this.#bodyBytes + answerCost(resultBytes, this.#answerEncoding), 'this request and its answer');
  }

  /** Takes a pool slot (503 when every one is taken). */
  takeSlot(): void {
    this.#releaseSlot ??= this.#ctx.pool.reserve();
  }

  /** One more holder: what it holds is given back only once this one has released it too. */
  retain(): this {
    if (this.#holders > 0) this.#holders++;
    return this;
  }

  /** A holder is done with it; the last gives everything back. Harmless when called again by the last. */
  release(): void {
    if (this.#holders === 0 || --this.#holders > 0) return;
    this.endUpload();
    this.#releaseSlot?.();
    this.#charge.release();
  }
}
