import type { ConvGeometry, FloatArray } from '../geometry.js';

/**
 * The kernels' signatures, one a pass: a pass of conv2d and the same pass of conv-transpose2d take
 * the same tensors (workers/tasks.ts calls either alike). All arrays of one call share one type;
 * `columns` holds scratchLength(g) elements.
 */
export type ForwardKernel = <F extends FloatArray>(
  g: ConvGeometry,
  input: F,
  weight: F,
  bias: F | null,
  output: F,
  columns: F,
) => void;

export type GradInputKernel = <F extends FloatArray>(
  g: ConvGeometry,
  gradOutput: F,
  weight: F,
  gradInput: F,
  columns: F,
) => void;

export type GradParametersKernel = <F extends FloatArray>(
  g: ConvGeometry,
  input: F,
  gradOutput: F,
  gradWeight: F,
  gradBias: F | null,
  scale: number,
  columns: F,
) => void;
