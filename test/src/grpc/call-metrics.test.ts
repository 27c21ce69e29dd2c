import assert from 'node:assert/strict';
import { connect } from 'node:http2';
import { describe, it } from 'node:test';
import { Metadata, type ServiceError, status } from '@grpc/grpc-js';
import { SLEEP } from '../../fixtures/faulty-worker.js';
import { faultyWorker, until } from '../../helpers/faults.js';
import { send } from '../../helpers/http.js';
import { rawOf, refused, serve, unary } from './client.js';
import { params } from './messages.js';

/** `/metrics` counts and times gRPC calls as it does REST requests: one series per method and status code. */

const SERVICE = 'inference.GRPCInferenceService';

async function scrape(app: Parameters<typeof send>[0]): Promise<string> {
  return (await send(app, { method: 'GET', url: '/metrics' })).body;
}

/** The value of one series of the scrape, 0 when it is not there. */
function series(text: string, metric: string, method: string, code: string, service = SERVICE): number {
  const labels = `grpc_service="${service}",grpc_method="${method}",grpc_code="${code}"`;
  const m = new RegExp(`^${metric}\\{${labels}\\} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}
const handled = (text: string, method: string, code: string, service?: string) =>
  series(text, 'convsvc_grpc_server_handled_total', method, code, service);

const conv = (weightShape: number[]) => ({
  model_name: 'conv2d',
  inputs: [
    { name: 'input', datatype: 'FP32', shape: [1, 1, 3, 3] },
    { name: 'weight', datatype: 'FP32', shape: weightShape },
  ],
  raw_input_contents: [rawOf(new Float32Array(9).fill(1)), rawOf(new Float32Array(9).fill(2))],
});

describe('gRPC calls in /metrics', () => {
  it('counts each call once by method and status code, and times it', async (t) => {
    const { app, inference, health } = await serve(t);
    await unary(inference, 'ModelInfer', conv([1, 1, 3, 3]));
    await unary(inference, 'ModelInfer', conv([1, 1, 3, 3]));
    assert.equal((await refused(unary(inference, 'ModelInfer', conv([1, 1, 2, 2])))).code, status.INVALID_ARGUMENT);
    assert.equal((await refused(unary(inference, 'ModelReady', { name: 'no-such-model' }))).code, status.NOT_FOUND);
    await unary(health, 'Check', { service: '' });

    const text = await scrape(app);
    assert.equal(handled(text, 'ModelInfer', 'OK'), 2);
    assert.equal(handled(text, 'ModelInfer', 'INVALID_ARGUMENT'), 1);
    assert.equal(handled(text, 'ModelReady', 'NOT_FOUND'), 1);
    assert.equal(handled(text, 'Check', 'OK', 'grpc.health.v1.Health'), 1);
    assert.equal(series(text, 'convsvc_grpc_server_handling_seconds_count', 'ModelInfer', 'OK'), 2);
    assert.ok(series(text, 'convsvc_grpc_server_handling_seconds_sum', 'ModelInfer', 'OK') > 0);
    assert.match(text, /^# TYPE convsvc_grpc_server_handling_seconds histogram$/m);
  });

  it('counts a call its client cancelled as CANCELLED, once', async (t) => {
    const { app, inference } = await serve(t, { workers: 1, inlineMaxMacs: 0 }, { workerEntry: faultyWorker });
    const sleeping = {
      model_name: 'im2col',
      parameters: params({ kernel_h: 1, kernel_w: 1 }),
      inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 1, 2] }],
      raw_input_contents: [rawOf(Float32Array.from([SLEEP, 1000]))],
    };
    let ended: ServiceError | null = null;
    const call = (inference as any).ModelInfer(sleeping, new Metadata(), (err: ServiceError | null) => {
      ended = err;
    });
    await until(() => app.pool.running === 1);
    call.cancel();
    await until(() => ended !== null);
    await until(() => app.pool.running === 0);
    const text = await scrape(app);
    assert.equal(handled(text, 'ModelInfer', 'CANCELLED'), 1);
    assert.equal(handled(text, 'ModelInfer', 'OK'), 0);
    assert.equal(handled(text, 'ModelInfer', 'UNAVAILABLE'), 0);
  });

  it("counts the calls the intake refuses, from their headers or their message, as the handlers' refusals", async (t) => {
    const { app, port, close } = await serve(null, { requestTimeoutMs: 500, apiKeys: ['the-key'] });
    const session = connect(`http://127.0.0.1:${port}`);
    // The session first: the app's close waits for it.
    t.after(async () => {
      session.destroy();
      await close();
    });
    const open = (headers: Record<string, string>) => {
      const stream = session.request({
        ':method': 'POST',
        ':path': `/${SERVICE}/ModelInfer`,
        'content-type': 'application/grpc',
        te: 'trailers',
        ...headers,
      });
      stream.on('error', () => {});
      // A message of 1 KiB announced, 10 bytes of it sent: never whole.
      const prefix = Buffer.alloc(5);
      prefix.writeUInt32BE(1024, 1);
      stream.write(Buffer.concat([prefix, Buffer.alloc(10)]));
      // The status comes in the trailers, or in the headers of an answer that is nothing else.
      return new Promise<string>((resolve) => {
        const settle = (h: Record<string, unknown>) => {
          if (h['grpc-status'] !== undefined) resolve(String(h['grpc-status']));
        };
        stream.on('response', settle);
        stream.on('trailers', settle);
      });
    };
    // Without its key: refused from its headers. With it: cut off at the deadline, its message unfinished.
    const [stranger, held] = await Promise.all([open({}), open({ authorization: 'Bearer the-key' })]);
    assert.equal(Number(stranger), status.UNAUTHENTICATED);
    assert.equal(Number(held), status.DEADLINE_EXCEEDED);
    const text = await scrape(app);
    assert.equal(handled(text, 'ModelInfer', 'UNAUTHENTICATED'), 1);
    assert.equal(handled(text, 'ModelInfer', 'DEADLINE_EXCEEDED'), 1);
  });
});
