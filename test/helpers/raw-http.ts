import { type AddressInfo, connect } from 'node:net';
import type { FastifyInstance } from 'fastify';

export interface RawResponse {
  readonly status: number;
  readonly head: string;
  readonly body: string;
}

/**
 * Writes `text` as it is to the app's port and reads until the server closes or (unless
 * `untilClose`) `Content-Length` bytes of body have come: for what no HTTP client would send (encoded prefixes, absolute-form
 * targets, broken request lines).
 */
export function rawRequest(
  app: FastifyInstance,
  text: string | Buffer,
  { untilClose = false, timeoutMs = 10_000 } = {},
): Promise<RawResponse> {
  const { port } = app.server.address() as AddressInfo;
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(text));
    let received = Buffer.alloc(0);
    const done = () => {
      const all = received.toString('latin1');
      const end = all.indexOf('\r\n\r\n');
      const head = end < 0 ? all : all.slice(0, end);
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
      resolve({ status, head, body: end < 0 ? '' : Buffer.from(all.slice(end + 4), 'latin1').toString('utf8') });
      socket.destroy();
    };
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const all = received.toString('latin1');
      const end = all.indexOf('\r\n\r\n');
      const length = /\r\ncontent-length: (\d+)/i.exec(all.slice(0, end))?.[1];
      if (!untilClose && end >= 0 && length !== undefined && received.length - end - 4 >= Number(length)) done();
    });
    socket.on('end', done);
    socket.on('close', done);
    socket.on('error', (err) => (received.length > 0 ? done() : reject(err)));
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`no answer within ${timeoutMs} ms`)));
  });
}

/** A POST of a JSON body to `target` exactly as written, on a connection that closes after it. */
export const rawPost = (target: string, body: string, headers = ''): string =>
  `POST ${target} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${headers}Connection: close\r\n\r\n${body}`;

export const rawGet = (target: string, headers = ''): string =>
  `GET ${target} HTTP/1.1\r\nHost: localhost\r\n${headers}Connection: close\r\n\r\n`;

export interface Trickler {
  /** The answer, once one has come (or the status 0 if the server closed without one). */
  readonly answered: Promise<RawResponse>;
  /** Whether the server has closed the connection. */
  readonly closed: () => boolean;
  stop(): void;
}

/**
 * Opens a connection to `port` that states a body of `declared` bytes, sends its first byte, then
 * one byte every `everyMs`: a client that would hold whatever it is given for as long as it liked.
 */
export function trickle(port: number, target: string, { declared = 32 * 2 ** 20, everyMs = 1000 } = {}): Trickler {
  const socket = connect(port, '127.0.0.1');
  socket.setNoDelay(true);
  let timer: NodeJS.Timeout | undefined;
  let isClosed = false;
  socket.on('connect', () => {
    socket.write(
      `POST ${target} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${declared}\r\n\r\n{`,
    );
    timer = setInterval(() => socket.write(' '), everyMs);
  });
  const answered = new Promise<RawResponse>((resolve) => {
    let received = '';
    const done = () => {
      const end = received.indexOf('\r\n\r\n');
      const head = end < 0 ? received : received.slice(0, end);
      resolve({
        status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0),
        head,
        body: end < 0 ? '' : received.slice(end + 4),
      });
    };
    socket.on('data', (c: Buffer) => (received += c.toString('latin1')));
    socket.on('close', () => {
      isClosed = true;
      clearInterval(timer);
      done();
    });
    socket.on('error', () => {});
  });
  return {
    answered,
    closed: () => isClosed,
    stop: () => {
      clearInterval(timer);
      socket.destroy();
    },
  };
}
