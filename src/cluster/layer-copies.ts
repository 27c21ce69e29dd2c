import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** How the primary tells its server processes where its copies directory is. */
export const LAYER_COPIES_ENV = 'CONVSVC_LAYER_COPIES';

/**
 * Where the server processes of one primary leave the copies of loaded layers' files for each
 * other (src/models/layers.ts saves them, the primary removes them when they are replaced and at
 * exit). The primary makes it with mkdtemp: a fresh name no one can guess or place beforehand,
 * readable by this user alone, so two services on one host, or another user, never share it.
 */
export const makeLayerCopiesDir = (): string => mkdtempSync(join(tmpdir(), 'convsvc-layers-'));

/** In a server process: the copies directory its primary made (undefined outside a cluster). */
export const layerCopiesDir = (): string | undefined => process.env[LAYER_COPIES_ENV];
