/** Drives the generator against a live server and tallies what came back. */

import { request as httpRequest } from 'node:http';
import fc from 'fast-check';
import { judge, judgeWithoutKey } from './oracle.js';

/**
 * A route as a request-target Node's client will send: a mutation may set it to any string, and
 * node:http refuses a path with spaces or control characters (a TypeError, no request at all),
 * so every byte outside the unreserved set and "/" is percent-encoded; the server sees the rest.
 */
const pathOf = (route: string): string =>
  Array.from(Buffer.from(route, 'utf8'), (b) =>
    /[\w.~/-]/.test(String.fromCharCode(b))
      ? String.fromCharCode(b)
      : `%${b.toString(16).toUpperCase().padStart(2, '0')}`,
  ).join('');

import { type FuzzRequest, fuzzRequest } from './requests.js';

export interface FuzzOptions {
  /** The server's base URL, e.g. http://127.0.0.1:8080 (loopback only). */
  readonly baseUrl: string;
  readonly runs: number;
  readonly seed?: number;
  /** A request unanswered this long is a hang. */
  readonly timeoutMs?: number;
  /** The API key the server takes: sent with every request but those meant to go without. */
  readonly apiKey: string;
}

export interface FuzzReport {
  readonly runs: number;
  readonly seed: number;
  readonly statuses: Record<string, number>;
  readonly kinds: Record<string, number>;
  /** The first (shrunk) counterexample, if any. */
  readonly failure?: string;
}

/** One request as written, with node:http: fetch would normalise the spelled-out targets away. */
function send(
  baseUrl: string,
  req: FuzzRequest,
  apiKey: string,
  timeoutMs: number,
): Promise<{ status: number; contentType: string; body: string }> {
  const url = new URL(baseUrl);
  const headers: Record<string, string> = { 'content-type': req.contentType };
  if (req.chunkBytes === undefined) headers['content-length'] = String(Buffer.byteLength(req.body));
  if (!req.withoutKey) headers.authorization = `Bearer ${apiKey}`;
  return new Promise((resolve, reject) => {
    const r = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        method: 'POST',
        path: req.target ?? `/v1/${pathOf(req.route)}`,
        headers,
        timeout: timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            contentType: String(res.headers['content-type'] ?? ''),
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    r.on('timeout', () => r.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    r.on('error', reject);
    const body = Buffer.from(req.body);
    // A write each: node:http sends every write as a chunk of its own.
    for (let at = 0; req.chunkBytes !== undefined && at < body.length; at += req.chunkBytes)
      r.write(body.subarray(at, at + req.chunkBytes));
    r.end(req.chunkBytes === undefined ? body : undefined);
  });
}

export async function fuzz(opts: FuzzOptions): Promise<FuzzReport> {
  const url = new URL(opts.baseUrl);
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname))
    throw new Error(`the fuzzer only talks to loopback, not ${url.hostname}`);
  const seed = opts.seed ?? Date.now() >>> 0;
  const statuses: Record<string, number> = {};
  const kinds: Record<string, number> = {};
  const property = fc.asyncProperty(fuzzRequest, async (req) => {
    let answer: Awaited<ReturnType<typeof send>>;
    try {
      answer = await send(opts.baseUrl, req, opts.apiKey, opts.timeoutMs ?? 10_000);
    } catch (err) {
      throw new Error(`no answer (${(err as Error).name}: ${(err as Error).message}): a hang or a crash`);
    }
    statuses[answer.status] = (statuses[answer.status] ?? 0) + 1;
    const kind = req.kind.split(' + ')[0].replace(/ \(.*\)$/, '');
    kinds[kind] = (kinds[kind] ?? 0) + 1;
    const wrong = req.withoutKey ? judgeWithoutKey(answer) : judge(req.route, req.body, answer);
    if (wrong) throw new Error(`${wrong}\n  answer: ${answer.status} ${answer.body.slice(0, 300)}`);
  });
  const result = await fc.check(property, { numRuns: opts.runs, seed, endOnFailure: false, maxSkipsPerRun: 0 });
  const failure = result.failed
    ? `${result.errorInstance instanceof Error ? result.errorInstance.message : String(result.errorInstance)}\n  request: ${JSON.stringify(result.counterexample?.[0]).slice(0, 600)}\n  reproduce with seed ${result.seed}, path ${result.counterexamplePath}`
    : undefined;
  return { runs: result.numRuns, seed, statuses, kinds, failure };
}
