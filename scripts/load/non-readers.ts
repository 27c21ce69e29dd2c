/**
 * Attackers that never read their answers, for `npm run load`: each socket sends a valid op
 * request whose answer outgrows what the sockets' buffers take from a client that reads nothing
 * (the client's initial receive buffer and the server's send buffer, ~4 MB on Linux's
 * defaults), then reads nothing; a wave of `perWave` opens every `everyMs`, the earlier ones left
 * open. The server must cut such answers (MIN_BODY_BYTES_PER_SECOND, REQUEST_TIMEOUT_MS) rather
 * than let them hold their requests' memory and slots for as long as the sockets stay open.
 */
import { connect, type Socket } from 'node:net';
import { requestHead } from './harness.js';

export interface NonReaders {
  /** Sockets opened so far. */
  readonly opened: () => number;
  stop(): void;
}

export function startNonReaders(
  url: string,
  request: { path: string; body: string },
  perWave: number,
  everyMs: number,
): NonReaders {
  const { path, body } = request;
  const { hostname, port } = new URL(url);
  const sockets: Socket[] = [];
  const wave = () => {
    for (let i = 0; i < perWave; i++) {
      const socket = connect(Number(port), hostname);
      socket.on('error', () => {});
      socket.write(requestHead(path, Buffer.byteLength(body)) + body);
      socket.pause();
      sockets.push(socket);
    }
  };
  wave();
  const timer = setInterval(wave, everyMs);
  return {
    opened: () => sockets.length,
    stop: () => {
      clearInterval(timer);
      for (const s of sockets) s.destroy();
    },
  };
}
