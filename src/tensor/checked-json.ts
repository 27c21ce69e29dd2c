/**
 * JSON text parsed as Fastify's default parser does (secure-json-parse with `protoAction` and
 * `constructorAction` "error"), with the reason for a refusal kept: Fastify answers a valid body
 * with a forbidden key "Body is not valid JSON", which sends a client hunting for a syntax error
 * that is not there. No Fastify import: this also runs in the parse worker.
 */

export type JsonRefusalReason = 'empty' | 'syntax' | 'forbidden-key' | 'too-many-containers';

export class JsonRefusal extends Error {
  override readonly name = 'JsonRefusal';
  constructor(
    readonly reason: JsonRefusalReason,
    message: string,
  ) {
    super(message);
  }
}

const BOM = 0xfeff;

/**
 * The first forbidden key of a parsed value, breadth-first as secure-json-parse scans: an own
 * `__proto__`, or a `constructor` holding an object with an own `prototype`. With a queue, not
 * recursion: JSON.parse takes any depth.
 */
function forbiddenKey(root: unknown): string | null {
  let next: object[] = root !== null && typeof root === 'object' ? [root] : [];
  while (next.length > 0) {
    const nodes = next;
    next = [];
    for (const node of nodes) {
      if (Object.hasOwn(node, '__proto__')) return '"__proto__"';
      const ctor = (node as { constructor?: unknown }).constructor;
      if (
        Object.hasOwn(node, 'constructor') &&
        ctor !== null &&
        typeof ctor === 'object' &&
        Object.hasOwn(ctor, 'prototype')
      ) {
        return '"constructor" holding a "prototype"';
      }
      for (const key in node) {
        const value = (node as Record<string, unknown>)[key];
        if (value !== null && typeof value === 'object') next.push(value);
      }
    }
  }
  return null;
}

/** `text` parsed; throws a JsonRefusal saying why it is refused. */
export function parseCheckedJson(text: string): unknown {
  if (text.length === 0) throw new JsonRefusal('empty', 'the body is empty');
  let value: unknown;
  try {
    value = JSON.parse(text.charCodeAt(0) === BOM ? text.slice(1) : text) as unknown;
  } catch {
    throw new JsonRefusal('syntax', 'the body is not valid JSON');
  }
  const key = forbiddenKey(value);
  if (key !== null) {
    throw new JsonRefusal(
      'forbidden-key',
      `the body is valid JSON, but it has a key ${key}, which is refused: it could change the prototype of the objects built from it`,
    );
  }
  return value;
}
