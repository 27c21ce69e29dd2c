import type { ResultTensor } from '../schemas/tensor.js';

/**
 * The JSON text of an op's answer (`{name: tensor, ...}`), as bytes. base64 needs no JSON
 * escaping, so those strings are written into the answer as they are (one byte a character)
 * rather than scanned again by JSON.stringify and re-encoded as UTF-8: on a DCGAN-sized answer
 * that was most of the main thread's time spent writing it.
 */
export function answerJson(answer: Readonly<Record<string, ResultTensor>>): Buffer {
  // JSON text, and the base64 strings to splice in after each piece of it.
  const pieces: { json: string; b64?: string }[] = [];
  let text = '{';
  for (const [name, t] of Object.entries(answer)) {
    text += `${text === '{' ? '' : ','}${JSON.stringify(name)}:{"shape":${JSON.stringify(t.shape)},"dtype":${JSON.stringify(t.dtype)},`;
    if (t.b64 !== undefined) {
      pieces.push({ json: `${text}"b64":"`, b64: t.b64 });
      text = '"}';
    } else {
      text += `"data":${JSON.stringify(t.data)}}`;
    }
  }
  pieces.push({ json: `${text}}` });
  let length = 0;
  for (const p of pieces) length += Buffer.byteLength(p.json) + (p.b64?.length ?? 0);
  const out = Buffer.allocUnsafe(length);
  let at = 0;
  for (const p of pieces) {
    at += out.write(p.json, at, 'utf8');
    if (p.b64 !== undefined) at += out.write(p.b64, at, 'latin1');
  }
  return out;
}
