/**
 * Protocol buffers' wire format, for the one message written by hand: ModelInferResponse, whose
 * tensors are copied once, straight from the kernels' results (one typed array, or a split's
 * pieces) into the message, instead of joined, then copied again by protobufjs. Field numbers
 * are proto/grpc_service.proto's; tests decode what this writes with the generated stubs of two
 * languages.
 */

const LEN = 2;
const tag = (field: number) => (field << 3) | LEN;

function varintSize(v: number): number {
  let n = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

/** A message under construction: parts sized first, then written into one buffer. */
export class Writer {
  readonly #out: Buffer;
  #at = 0;
  constructor(size: number) {
    this.#out = Buffer.allocUnsafe(size);
  }
  varint(v: number): this {
    while (v >= 0x80) {
      this.#out[this.#at++] = (v & 0x7f) | 0x80;
      v = Math.floor(v / 128);
    }
    this.#out[this.#at++] = v;
    return this;
  }
  /** A length-delimited field's key and length. */
  head(field: number, length: number): this {
    return this.varint(tag(field)).varint(length);
  }
  bytes(views: readonly ArrayBufferView[]): this {
    for (const v of views) {
      this.#out.set(new Uint8Array(v.buffer, v.byteOffset, v.byteLength), this.#at);
      this.#at += v.byteLength;
    }
    return this;
  }
  string(field: number, s: string): this {
    const length = Buffer.byteLength(s);
    this.head(field, length);
    this.#at += this.#out.write(s, this.#at, 'utf8');
    return this;
  }
  finish(): Buffer {
    if (this.#at !== this.#out.length) throw new Error(`wrote ${this.#at} of ${this.#out.length} bytes`);
    return this.#out;
  }
}

/** The size of a length-delimited field holding `length` bytes. */
export const fieldSize = (field: number, length: number): number =>
  varintSize(tag(field)) + varintSize(length) + length;
export const stringSize = (field: number, s: string): number => fieldSize(field, Buffer.byteLength(s));
export const packedVarintsSize = (values: readonly number[]): number => values.reduce((n, v) => n + varintSize(v), 0);
