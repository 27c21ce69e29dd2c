import type { ColumnsGeometry, ConvGeometry } from '../geometry.js';

/**
 * One sample's image [channels, height, width] <-> its columns [channels*kH*kW, colH*colW]: the
 * argument im2col and col2im share. A ColumnsGeometry is one, so the batched ops pass theirs as
 * is; a convolution passes one group's channels (contiguous in NCHW) by offset, without a copy.
 */
export type SampleColumns = Omit<ColumnsGeometry, 'batch'>;

/**
 * The columns of one group of one sample. A plain convolution unfolds its input onto its output
 * grid; a transposed one folds columns on its input grid into its output.
 */
export function groupColumns(g: ConvGeometry): SampleColumns {
  const plain = g.kind === 'conv2d';
  // One literal, no spread: V8 built the spread version as a slow object (~3 µs a call, and
  // every later read of it slow), a tenth of the small op's kernel time.
  return {
    kH: g.kH,
    kW: g.kW,
    sH: g.sH,
    sW: g.sW,
    pH: g.pH,
    pW: g.pW,
    dH: g.dH,
    dW: g.dW,
    channels: (plain ? g.inChannels : g.outChannels) / g.groups,
    height: plain ? g.inH : g.outH,
    width: plain ? g.inW : g.outW,
    colH: plain ? g.outH : g.inH,
    colW: plain ? g.outW : g.inW,
  };
}

/**
 * True when im2col would copy the image unchanged: a 1x1 window at stride 1 without padding,
 * on a grid the size of the image (dilation cannot move a 1x1 window). Kernels then skip the
 * copy and run the GEMM on the image itself, as ATen does.
 */
export function columnsAreImage(c: SampleColumns): boolean {
  return (
    c.kH === 1 &&
    c.kW === 1 &&
    c.sH === 1 &&
    c.sW === 1 &&
    c.pH === 0 &&
    c.pW === 0 &&
    c.colH === c.height &&
    c.colW === c.width
  );
}

/** Elements of one sample's columns. */
export function columnsLength(c: SampleColumns): number {
  return c.channels * c.kH * c.kW * c.colH * c.colW;
}

/** Elements of one sample's image. */
export function imageLength(c: SampleColumns): number {
  return c.channels * c.height * c.width;
}

/** A grid as the native addon and the WebAssembly module take it: its 13 fields, in this order. */
export type GridArgs = [
  channels: number,
  height: number,
  width: number,
  kH: number,
  kW: number,
  sH: number,
  sW: number,
  pH: number,
  pW: number,
  dH: number,
  dW: number,
  colH: number,
  colW: number,
];

export const gridArgs = (g: SampleColumns): GridArgs => [
  g.channels,
  g.height,
  g.width,
  g.kH,
  g.kW,
  g.sH,
  g.sW,
  g.pH,
  g.pW,
  g.dH,
  g.dW,
  g.colH,
  g.colW,
];
