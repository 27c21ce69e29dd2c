/**
 * HTTP/2 receive windows: Node's default, which grpc-js keeps and has no server option for, is
 * 64 KiB, so a DCGAN request (3 MiB) waited on some fifty window updates, and took 1.5-2x the
 * time of the same request over HTTP/1.1. The windows are widened to this (or MAX_BODY_BYTES,
 * if smaller) through grpc-js's internals; should they change, the defaults stand (slower, not
 * wrong). A window bounds only what a client may send before the server reads it, and grpc-js
 * reads at once, up to grpc.max_receive_message_length a message.
 */
export const MAX_RECEIVE_WINDOW = 16 * 2 ** 20;
