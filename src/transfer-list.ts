import type { Piscina } from 'piscina';

type RunTransferList = NonNullable<NonNullable<Parameters<Piscina['run']>[1]>['transferList']>;

/**
 * The buffers to move with a Piscina task. Piscina reads its transferList type off the last
 * overload of MessagePort.postMessage, which @types/node 26 made the options object; at run time
 * it passes the array on, which postMessage's other overload takes.
 */
export const piscinaTransfer = (buffers: readonly ArrayBuffer[]): RunTransferList =>
  buffers as unknown as RunTransferList;
