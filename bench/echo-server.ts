/**
 * A bare server of one transport for bench/transports.ts: it takes a request of any size and
 * answers ANSWER_BYTES, doing nothing else, so that what it costs is the transport's alone.
 * Run as `node --import tsx bench/echo-server.ts <kind> <port> <answer bytes>`; prints "ready".
 * - http1: node:http, the body copied into one buffer of its content-length (as /v2 binary's
 *   tensors are copied as they arrive);
 * - http2: node:http2 speaking gRPC's framing by hand, the message copied into one buffer of its
 *   length prefix, the answer's prefix corked with it, grpc-status in trailers: the least any gRPC
 *   server on node:http2 can do;
 * - grpc-js: @grpc/grpc-js, messages as bytes (no protobuf), the receive windows widened as the
 *   service's are (src/grpc/server.ts).
 * Each answer is a fresh buffer, as each inference's results are. Started with the service's Node
 * flags (src/service-node-flags.ts), its collections tuned alike.
 */
import { createServer as createHttp1 } from 'node:http';
import { createServer as createHttp2, type Http2Server, type Http2Session, type ServerHttp2Stream } from 'node:http2';
import { Server, ServerCredentials, type ServerUnaryCall, type sendUnaryData } from '@grpc/grpc-js';
import { MAX_RECEIVE_WINDOW } from '../src/grpc/receive-window.js';
import { applyRuntimeV8Flags } from '../src/service-node-flags.js';

/** The gRPC method the http2 and grpc-js kinds answer (any path will do for http2). */
const ECHO_PATH = '/bench.Echo/Echo';

const [kind, portText, answerText] = process.argv.slice(2) as [string, string, string];
const port = Number(portText);
const answerBytes = Number(answerText);

const answer = (): Buffer => Buffer.allocUnsafe(answerBytes).fill(1);

function http1(): Promise<void> {
  const server = createHttp1((req, res) => {
    const body = Buffer.allocUnsafe(Number(req.headers['content-length'] ?? 0));
    let at = 0;
    req.on('data', (chunk: Buffer) => {
      at += chunk.copy(body, at);
    });
    req.on('end', () => {
      const out = answer();
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': out.length });
      res.end(out);
    });
  });
  return new Promise((done) => server.listen(port, '127.0.0.1', done));
}

const PREFIX = 5;

function http2(): Promise<void> {
  const server = createHttp2({ settings: { initialWindowSize: MAX_RECEIVE_WINDOW } });
  server.on('session', (session: Http2Session) => session.setLocalWindowSize(MAX_RECEIVE_WINDOW));
  server.on('stream', (stream: ServerHttp2Stream) => {
    let head = Buffer.alloc(0);
    let message: Buffer | null = null;
    let at = 0;
    stream.on('data', (chunk: Buffer) => {
      if (message === null) {
        head = Buffer.concat([head, chunk]);
        if (head.length < PREFIX) return;
        message = Buffer.allocUnsafe(head.readUInt32BE(1));
        at = head.copy(message, 0, PREFIX);
      } else at += chunk.copy(message, at);
    });
    stream.on('end', () => {
      const out = answer();
      const prefix = Buffer.alloc(PREFIX);
      prefix.writeUInt32BE(out.length, 1);
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.once('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      stream.cork();
      stream.write(prefix);
      stream.end(out);
      stream.uncork();
    });
  });
  return new Promise((done) => server.listen(port, '127.0.0.1', done));
}

function grpcJs(): Promise<void> {
  const server = new Server({ 'grpc.max_receive_message_length': -1 });
  const internals = server as unknown as {
    commonServerOptions: { settings?: object };
    http2Servers: Map<Http2Server, unknown>;
  };
  internals.commonServerOptions.settings = { initialWindowSize: MAX_RECEIVE_WINDOW };
  const bytes = (b: Buffer) => b;
  server.addService(
    {
      Echo: {
        path: ECHO_PATH,
        requestStream: false,
        responseStream: false,
        requestSerialize: bytes,
        requestDeserialize: bytes,
        responseSerialize: bytes,
        responseDeserialize: bytes,
      },
    },
    { Echo: (_call: ServerUnaryCall<Buffer, Buffer>, reply: sendUnaryData<Buffer>) => reply(null, answer()) },
  );
  return new Promise((done, fail) =>
    server.bindAsync(`127.0.0.1:${port}`, ServerCredentials.createInsecure(), (err) => {
      if (err) return fail(err);
      for (const h of internals.http2Servers.keys())
        h.on('session', (session: Http2Session) => session.setLocalWindowSize(MAX_RECEIVE_WINDOW));
      done();
    }),
  );
}

applyRuntimeV8Flags();
const kinds: Record<string, () => Promise<void>> = { http1, http2, 'grpc-js': grpcJs };
const start = kinds[kind];
if (start === undefined) throw new Error(`unknown kind ${kind}: one of ${Object.keys(kinds).join(', ')}`);
await start();
console.log('ready');
