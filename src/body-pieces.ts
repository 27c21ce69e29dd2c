/**
 * How finely a body may be cut. Node hands a body to JavaScript a piece at a time (a socket read,
 * or one chunk of a chunked body), each its own Buffer, callback and stream push: ~1.3 µs and
 * ~100 bytes of heap whatever its size. Sent as 1-byte chunks (6 bytes of the wire each), 4 MiB
 * of body took the main thread 5.4 s, against 10 ms in 64 KiB chunks, and a chunked body kept as
 * its pieces until whole held ~100 times its size. So a body may come in FREE_PIECES pieces, and
 * past them in pieces of MIN_PIECE_BYTES on average: below any TCP segment's payload (536 bytes
 * at least), so only chunks cut smaller than any network would, as no client needs to, fall foul.
 */
export const FREE_PIECES = 1024;
export const MIN_PIECE_BYTES = 512;

/** Why `pieces` pieces are too many for `bytes` bytes; null while they are not. */
export function piecesRefusal(pieces: number, bytes: number): string | null {
  if (pieces <= FREE_PIECES + bytes / MIN_PIECE_BYTES) return null;
  return `the body came in ${pieces} pieces for ${bytes} bytes: past the first ${FREE_PIECES}, its chunks must average ${MIN_PIECE_BYTES} bytes or more`;
}
