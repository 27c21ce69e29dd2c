/**
 * Slow-upload attackers for `npm run load`: sockets that state a body of `declared` bytes and send a byte now
 * and then, reopened as soon as the server cuts one off, so `count` of them trickle throughout.
 */
import { connect, type Socket } from 'node:net';
import { requestHead } from './harness.js';

export interface Tricklers {
  /** Statuses the server answered them with (408 when cut off, 503 at shutdown), by status. */
  readonly answers: Record<string, number>;
  /** No more reopening: the sockets open now are the last. */
  hold(): void;
  stop(): void;
}

export function startTricklers(url: string, count: number, declared: number, path = '/v1/conv2d/forward'): Tricklers {
  const { hostname, port } = new URL(url);
  const answers: Record<string, number> = {};
  const sockets = new Set<Socket>();
  let running = true;
  const open = () => {
    const socket = connect(Number(port), hostname);
    sockets.add(socket);
    let received = '';
    let timer: NodeJS.Timeout | undefined;
    socket.on('connect', () => {
      socket.write(`${requestHead(path, declared)}{`);
      timer = setInterval(() => socket.write(' '), 1000);
    });
    socket.on('data', (c: Buffer) => (received += c.toString('latin1')));
    let failure = '';
    socket.on('error', (err: NodeJS.ErrnoException) => (failure = err.code ?? err.message));
    socket.on('close', () => {
      clearInterval(timer);
      sockets.delete(socket);
      const status = /^HTTP\/1\.1 (\d{3})/.exec(received)?.[1] ?? (failure || 'closed');
      answers[status] = (answers[status] ?? 0) + 1;
      if (running) open();
    });
  };
  for (let i = 0; i < count; i++) open();
  return {
    answers,
    hold: () => {
      running = false;
    },
    stop: () => {
      running = false;
      for (const s of sockets) s.destroy();
    },
  };
}
