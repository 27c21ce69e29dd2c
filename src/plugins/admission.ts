import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { KernelPool } from '../pool.js';

export interface AdmissionOptions {
  readonly pool: KernelPool;
  /** URL prefixes of the op routes: only their requests take a slot. */
  readonly prefixes: readonly string[];
}

/** Whether a request asks for kernel work (an op route), as opposed to health, metrics or docs. */
export const isOpRequest = (request: FastifyRequest, prefixes: readonly string[]): boolean =>
  request.method === 'POST' && prefixes.some((p) => request.url.startsWith(p));

/**
 * Admission control: an op request takes one of the pool's slots before its body is read, or is
 * refused with 503 + Retry-After (the pool's ProblemError). The slot is given back when the
 * answer has been written or the connection has closed, whichever comes first, so a client that
 * never reads its answer keeps holding one slot, not an unbounded number of them.
 */
async function admission(app: FastifyInstance, opts: AdmissionOptions): Promise<void> {
  app.addHook('onRequest', async (request, reply) => {
    if (!isOpRequest(request, opts.prefixes)) return;
    // Refused before its body is read: Node drains the body (the connection stays usable and the
    // client reads its 503), but nothing is parsed or decoded.
    const release = opts.pool.reserve();
    reply.raw.once('close', release);
  });
}

/** Registered without encapsulation: it applies to every route of the app. */
export const admissionPlugin = fp(admission, { name: 'admission' });
