/**
 * A stored layer's name: it is a URL segment and a directory of the repository, so it is a plain
 * word of a safe charset, never a path (no `/`, no leading dot), and never a built-in model's name.
 */
export const LAYER_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export const LAYER_NAME_RULE =
  'a layer name is 1 to 64 characters of A-Z, a-z, 0-9, "_", "." and "-", starting with a letter or digit';

/** Why `name` cannot name a layer, or null when it can. */
export function badLayerName(name: string, builtIn: (name: string) => boolean): string | null {
  if (!LAYER_NAME.test(name)) return `"${name.slice(0, 64)}" is not a layer name: ${LAYER_NAME_RULE}`;
  if (builtIn(name)) return `${name} is a built-in model (a stateless op); a layer needs a name of its own`;
  return null;
}
