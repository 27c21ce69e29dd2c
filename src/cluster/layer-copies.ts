import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Where the server processes of one primary leave the copies of loaded layers' files for each
 * other (src/models/layers.ts saves them, the primary removes them when they are replaced and at
 * exit): a directory of that primary's own, so two services on one host never share it.
 */
export const layerCopiesDir = (primaryPid: number): string => join(tmpdir(), `convsvc-layers-${primaryPid}`);
