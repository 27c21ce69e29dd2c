/**
 * /v1 field names in the protocol's terms. Pair parameters travel split (`stride` -> `stride_h`,
 * `stride_w`: the protocol's parameters are scalars), tensors in snake_case. The shared op
 * validation speaks /v1 names; these turn its paths and messages into what a /v2 caller sent.
 */

/** /v1 pair parameter -> the stem of its two /v2 parameters. */
export const PAIR_PARAMS: Readonly<Record<string, string>> = {
  stride: 'stride',
  padding: 'padding',
  outputPadding: 'output_padding',
  dilation: 'dilation',
  kernelSize: 'kernel',
  outputSize: 'output',
};

/** /v1 scalar parameter -> its /v2 parameter. */
export const SCALAR_PARAMS: Readonly<Record<string, string>> = {
  groups: 'groups',
  scale: 'scale',
  computeBias: 'compute_bias',
};

/** inputShape travels as the input's spatial size; batch and channels follow from the tensors. */
export const INPUT_SIZE_PARAMS = ['input_h', 'input_w'] as const;

const TENSOR_NAMES: Readonly<Record<string, string>> = {
  gradOutput: 'grad_output',
  gradInput: 'grad_input',
  gradWeight: 'grad_weight',
  gradBias: 'grad_bias',
};

const HW = ['h', 'w'];

/** A /v1 field path (`stride[0]`, `gradOutput.shape[1]`, `groups`) as a /v2 caller names it. */
export function v2Path(path: string): string {
  const pair = /^(\w+)(?:\[([01])\])?(.*)$/.exec(path);
  if (pair && pair[1] in PAIR_PARAMS) {
    const stem = PAIR_PARAMS[pair[1]];
    return pair[2] === undefined ? `parameters.${stem}_h/${stem}_w` : `parameters.${stem}_${HW[Number(pair[2])]}`;
  }
  if (path.startsWith('inputShape')) return `parameters.${INPUT_SIZE_PARAMS.join('/')}`;
  const head = /^\w+/.exec(path)?.[0] ?? '';
  if (head in SCALAR_PARAMS) return `parameters.${SCALAR_PARAMS[head]}${path.slice(head.length)}`;
  return v2Text(path);
}

/** A message of the shared validation with its /v1 names replaced by /v2 ones. */
export function v2Text(text: string): string {
  return text
    .replace(
      /\b(stride|padding|outputPadding|dilation|kernelSize|outputSize)\[([01])\]/g,
      (_, f: string, i: string) => `${PAIR_PARAMS[f]}_${HW[Number(i)]}`,
    )
    .replace(/\b(outputPadding|kernelSize|outputSize)\b/g, (_, f: string) => `${PAIR_PARAMS[f]}_h/${PAIR_PARAMS[f]}_w`)
    .replace(/\binputShape\b/g, `the input size (${INPUT_SIZE_PARAMS.join(', ')})`)
    .replace(/\bcomputeBias\b/g, 'compute_bias')
    .replace(/\b(gradOutput|gradInput|gradWeight|gradBias)\b/g, (_, f: string) => TENSOR_NAMES[f]);
}
