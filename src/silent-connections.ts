import type { Server, Socket } from 'node:net';

/**
 * Closes a connection that has sent nothing within `ms` of opening. Node times a request from
 * its first byte (HEADERS_TIMEOUT_MS) and an HTTP/2 session by its calls, so a socket that sends
 * nothing at all was never timed: MAX_CONNECTIONS such sockets kept every other client out for as
 * long as they stayed open. One that has sent a byte is left to those timers.
 */
export function closeSilentConnections(server: Server, ms: number): void {
  server.on('connection', (socket: Socket) => {
    const timer = setTimeout(closeIfSilent, ms, socket);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
  });
}

function closeIfSilent(socket: Socket): void {
  if (socket.bytesRead === 0) socket.destroy();
}
