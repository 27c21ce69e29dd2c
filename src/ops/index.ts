/** Shape inference and validation of every op: pure functions from shapes and params to a Plan. */

export * as columns from './columns.js';
export * as convTranspose2d from './conv-transpose2d.js';
export * as conv2d from './conv2d.js';
export { OpError, type OpErrorStatus } from './errors.js';
export type * from './types.js';
