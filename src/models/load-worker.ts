/**
 * The load thread's task: a layer's files read, decoded, checked and copied into shared memory
 * off the event loop (src/models/layer-files.ts). A load request's body is parsed here too: the
 * JSON of a 64 MiB layer in base64 is 86 MiB. The shared tensors go back to the main thread
 * shared, not copied.
 */
import { join } from 'node:path';
import { containersRefusal } from '../tensor/json-body.js';
import { LayerError } from './layer.js';
import {
  type Base64Text,
  FILE_PARAMETER,
  filesOfDirectory,
  filesOfParameters,
  type LayerFiles,
  type LayerFilesRefusal,
  LoadRequestSchema,
  saveLayerFiles,
} from './layer-files.js';
import { type LoadValue, splitLoadBody } from './load-body.js';

export interface LoadTask {
  /** A load request's body (empty: none was sent). */
  readonly body: Uint8Array;
  /** Where the body's base64 stands (findLoadValue), or null: the body is parsed whole. */
  readonly value: LoadValue | null;
  readonly name: string;
  /** MODEL_REPOSITORY, when set: where a load without a weights file reads its files. */
  readonly repository: string | undefined;
  /** A layer directory to read instead (what another server process saved). */
  readonly directory?: string;
  /** Where to save a copy of the files, for the other server processes to load. */
  readonly saveTo?: string;
  readonly maxStoredBytes: number;
}

export type LoadOutcome = { readonly files: LayerFiles } | { readonly refused: LayerFilesRefusal };

function parameters(body: Uint8Array, at: LoadValue | null): { config?: string; file?: Base64Text } {
  if (body.length === 0) return {};
  const split = at === null ? null : splitLoadBody(body, at);
  const json = split?.rest ?? Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  // Parameters of empty arrays and objects would make the thread hold many times the body.
  const crowded = containersRefusal(json);
  if (crowded) throw new LayerError(400, crowded);
  let value: unknown;
  try {
    value = JSON.parse(json.toString('utf8'));
  } catch {
    throw new LayerError(400, 'the body is not JSON');
  }
  const parsed = LoadRequestSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const at = issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
    throw new LayerError(400, `the request does not match the schema: ${at}${issue.message}`);
  }
  const p = parsed.data.parameters ?? {};
  return { config: p.config, file: split?.base64 ?? p[FILE_PARAMETER] };
}

export function loadLayerFiles(task: LoadTask): LayerFiles {
  if (task.directory !== undefined) return filesOfDirectory(task.directory, task.name, task.maxStoredBytes);
  const { config, file } = parameters(task.body, task.value);
  if (file !== undefined) {
    if (config === undefined)
      throw new LayerError(
        400,
        `parameters["${FILE_PARAMETER}"] needs parameters.config: a layer's files come together`,
      );
    return filesOfParameters(config, file, task.maxStoredBytes);
  }
  if (task.repository === undefined)
    throw new LayerError(
      400,
      `no MODEL_REPOSITORY to load ${task.name} from: send parameters.config and parameters["${FILE_PARAMETER}"]`,
    );
  const files = filesOfDirectory(join(task.repository, task.name), task.name, task.maxStoredBytes);
  return config === undefined ? files : { ...files, configText: config };
}

export default function load(task: LoadTask): LoadOutcome {
  try {
    const { file, ...files } = loadLayerFiles(task);
    if (task.saveTo !== undefined && file !== undefined) saveLayerFiles(task.saveTo, files.configText, file);
    return { files };
  } catch (err) {
    if (err instanceof LayerError) return { refused: { status: err.status, message: err.message } };
    throw err;
  }
}
