/**
 * What makes base64 text canonical (RFC 4648 alphabet, padded), checked without encoding every
 * byte again. Node's decoder skips a character outside the alphabet and stops at "=", so at the
 * canonical length any such character, or padding before the end, leaves fewer bytes than the
 * length promises: a caller compares what the decoder wrote with that. Two things the decoder
 * lets through are checked here: base64url's "-" and "_" (decoded like "+" and "/"), and the
 * last group, the only one that can carry padding bits or the wrong padding.
 * src/tensor/codec.ts checks a value held as a string, src/tensor/json-body.ts one in a body's
 * bytes.
 */

/** Whether the text holds base64url's own characters, which no canonical text does. */
export const hasUrlAlphabet = (text: string | Buffer): boolean => text.includes('-') || text.includes('_');

/** Whether `bytes`, all that the text decoded to, encode again to the text's last group of 4 characters. */
export function lastGroupMatches(bytes: Buffer, lastFour: string): boolean {
  const lastGroup = Math.floor((bytes.length - 1) / 3) * 3;
  return bytes.toString('base64', lastGroup) === lastFour;
}
