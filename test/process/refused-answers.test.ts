import assert from 'node:assert/strict';
import { request } from 'node:http';
import { describe, it } from 'node:test';
import { startServer } from '../../scripts/server-process.js';

/** The real process, answering bodies over MAX_BODY_BYTES to the clients services use most. */

const MiB = 2 ** 20;
const ROUNDS = 50;

/** A POST of `body` with node:http; its status, or the error the client reported instead. */
function postWithHttp(url: string, body: Buffer): Promise<number | string> {
  return new Promise((resolve) => {
    const req = request(
      `${url}/v1/im2col`,
      { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': body.length } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    req.end(body);
  });
}

const postWithFetch = (url: string, body: Buffer): Promise<number | string> =>
  fetch(`${url}/v1/im2col`, { method: 'POST', headers: { 'content-type': 'application/json' }, body }).then(
    async (res) => {
      await res.arrayBuffer();
      return res.status;
    },
    (err: Error & { cause?: { code?: string } }) => err.cause?.code ?? err.message,
  );

describe('a body over MAX_BODY_BYTES, from a real client', () => {
  for (const [client, post] of [
    ['node:http', postWithHttp],
    ['fetch', postWithFetch],
  ] as const) {
    it(`gets its 413 with ${client}, ${ROUNDS} times out of ${ROUNDS}`, async () => {
      // Two server processes: connections pass through the primary, and the answer must still arrive.
      const server = await startServer({ HTTP_PROCESSES: '2', MAX_BODY_BYTES: String(4 * MiB) });
      try {
        const body = Buffer.alloc(6 * MiB, 0x20);
        const outcomes: (number | string)[] = [];
        for (let i = 0; i < ROUNDS; i++) outcomes.push(await post(server.url, body));
        assert.deepEqual(
          outcomes.filter((o) => o !== 413),
          [],
          `${outcomes.filter((o) => o === 413).length} answers of ${ROUNDS}`,
        );
      } finally {
        server.child.kill('SIGTERM');
        await server.exited;
      }
    });
  }
});
