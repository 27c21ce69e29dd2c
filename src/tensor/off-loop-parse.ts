import { errorCodes } from 'fastify';
import { Piscina } from 'piscina';
import { base64Bytes, denseJsonExtra } from '../memory-model.js';
import { WORKER_NICENESS } from '../pool.js';
import { ProblemError } from '../problems.js';
import { RequestValidationError } from '../request-validation.js';
import { PackedData } from '../schemas/tensor-data.js';
import { piscinaTransfer } from '../transfer-list.js';
import { workerExecArgv } from '../worker-exec-argv.js';
import { JsonRefusal, parseCheckedJson } from './checked-json.js';
import { DecodedBase64, longBase64Bytes, type ParsedJson, parseJsonBodySteps } from './json-body.js';
import { commaCount } from './json-bytes.js';
import type { BodyKind } from './pack-data.js';
import type { PackedInTransit, ParseOutcome, ParseTask } from './parse-worker.js';

/**
 * JSON bodies parsed where they cannot stall the event loop. JSON.parse of 32 MB of numbers takes
 * the thread for hundreds of milliseconds, and zod and the decoder would then walk millions of
 * elements: with a few such bodies in flight, /health/live answered after a second. A body whose
 * JSON (long base64 aside) reaches OFF_LOOP_BYTES is parsed in a parse thread, which also reads
 * its tensor data into typed arrays; a smaller one is parsed on the main thread, its base64
 * decoded natively a piece per turn of the event loop (src/tensor/json-body.ts), and at once if
 * it has at most a piece: the small-op path takes no thread hop and no turn. The parse thread
 * checks the body against its route's schema too, and sends a refused body back as its field
 * errors only; the main thread's check of an accepted body (by Fastify's validator) then meets
 * typed arrays, not millions of elements.
 */

/** JSON bytes (long base64 values not counted) from which a body is parsed off the event loop. */
export const OFF_LOOP_BYTES = 256 * 1024;

/** Parse threads per API: parsing is a short part of a large request, and the cores are the kernels'. */
export const PARSE_THREADS = 1;

/** A parse thread idle this long ends; the next large body starts one again (in tens of ms). */
const PARSE_THREAD_IDLE_MS = 60_000;

type Done = (err: Error | null, parsed?: ParsedJson) => void;

/** A refused body as the error the request fails with: Fastify's own for bad JSON, in words of ours for a forbidden key. */
function requestError(err: unknown): Error {
  if (!(err instanceof JsonRefusal)) return err as Error;
  if (err.reason === 'empty') return new errorCodes.FST_ERR_CTP_EMPTY_JSON_BODY();
  if (err.reason === 'syntax') return new errorCodes.FST_ERR_CTP_INVALID_JSON_BODY();
  return new ProblemError('invalid-request', err.message);
}

/** Puts each tensor's read data back where the parse thread took it from. */
function unpack(value: unknown, packed: readonly PackedInTransit[]): void {
  for (const p of packed) {
    let holder = value as Record<string | number, unknown>;
    for (const key of p.at) holder = holder[key] as Record<string | number, unknown>;
    holder.data = new PackedData(p.values, p.firstBad);
  }
}

/** Takes a task's next step now, and each further one in a later turn of the event loop. */
function stepOn<T>(steps: Generator<void, T, void>, done: (err: Error | null, value?: T) => void): void {
  let step: IteratorResult<void, T>;
  try {
    step = steps.next();
  } catch (err) {
    done(requestError(err));
    return;
  }
  if (step.done) done(null, step.value);
  else setImmediate(stepOn, steps, done);
}

/** Parses the JSON bodies of one API (`kind` says where its tensors' data sit). */
export class JsonBodyParser {
  readonly #kind: BodyKind;
  #threads: Piscina | null = null;

  constructor(kind: BodyKind) {
    this.#kind = kind;
  }

  /** Whether `body` is parsed off the event loop. */
  static offLoop(body: Buffer): boolean {
    return body.length >= OFF_LOOP_BYTES && body.length - longBase64Bytes(body) >= OFF_LOOP_BYTES;
  }

  /**
   * Parses `body`, calling `done` with the value (and decoded base64) or the error the request
   * fails with: at once for a small body, later for a large one. A large body that owns its
   * memory is moved to the parse thread (it is not read again here); a slice of a larger buffer
   * (the JSON header of a /v2 binary body) is copied. `op` names a /v1 body's route (asked only
   * for a body parsed off the loop: reading a request's route builds an object each time).
   *
   * `charge` is told, before a large body is parsed, what parsing it will hold beyond the
   * per-byte charge of JSON numbers (src/memory-model.ts, denseJsonExtra: its values counted by
   * their commas, a piece per turn of the event loop); should it throw (the memory budget's
   * refusal), the body is not parsed and the request fails with that. A small body is not
   * counted: what it may hold beyond its charge is at most ~6 x OFF_LOOP_BYTES.
   */
  parse(
    body: Buffer,
    done: Done,
    op?: string | (() => string | undefined),
    charge?: (extraBytes: number) => void,
  ): void {
    if (!JsonBodyParser.offLoop(body)) {
      stepOn(parseJsonBodySteps(body, parseCheckedJson), done);
      return;
    }
    if (charge === undefined) {
      this.#parseOffLoop(body, done, op);
      return;
    }
    stepOn(commaCount(body), (err, commas) => {
      if (err) return done(err);
      try {
        charge(denseJsonExtra(body.length - base64Bytes(body), commas! + 1));
      } catch (refusal) {
        return done(refusal as Error);
      }
      this.#parseOffLoop(body, done, op);
    });
  }

  #parseOffLoop(body: Buffer, done: Done, op?: string | (() => string | undefined)): void {
    const owned = body.byteOffset === 0 && body.buffer.byteLength === body.length;
    const bytes = owned ? new Uint8Array(body.buffer, 0, body.length) : new Uint8Array(body);
    const task: ParseTask = { bytes, kind: this.#kind, op: typeof op === 'function' ? op() : op };
    this.#pool()
      .run(task, { transferList: piscinaTransfer([bytes.buffer as ArrayBuffer]) })
      .then(
        (outcome: ParseOutcome) => {
          if ('refused' in outcome)
            return done(requestError(new JsonRefusal(outcome.refused.reason, outcome.refused.message)));
          if ('invalid' in outcome) return done(new RequestValidationError('body', outcome.invalid));
          unpack(outcome.value, outcome.packed);
          const decoded =
            outcome.base64.length === 0
              ? null
              : new DecodedBase64(
                  outcome.base64.map((b) => ({
                    text: b.text,
                    bytes: Buffer.from(b.bytes.buffer, b.bytes.byteOffset, b.bytes.byteLength),
                  })),
                );
          done(null, { value: outcome.value, decoded });
        },
        (err: Error) => done(err),
      );
  }

  #pool(): Piscina {
    if (this.#threads) return this.#threads;
    this.#threads = new Piscina({
      filename: new URL('./parse-worker.js', import.meta.url).href,
      minThreads: 0,
      maxThreads: PARSE_THREADS,
      idleTimeout: PARSE_THREAD_IDLE_MS,
      atomics: 'disabled',
      execArgv: workerExecArgv(),
      // Like the kernel threads: the main thread, which answers probes, goes first.
      niceIncrement: WORKER_NICENESS,
    });
    // A thread that dies fails its task (that request's 500); Piscina replaces it.
    this.#threads.on('error', () => {});
    return this.#threads;
  }

  /**
   * Lets the parses in progress and queued finish, then ends the threads: at shutdown this runs
   * before the requests in flight are done (Fastify runs a plugin's onClose before the server's),
   * and a destroyed thread would fail a request admitted before it.
   */
  async close(): Promise<void> {
    await this.#threads?.close();
    this.#threads = null;
  }
}
