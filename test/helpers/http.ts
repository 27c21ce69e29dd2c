import type { FastifyInstance } from 'fastify';
import request from 'supertest';

export interface HttpRequest {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH' | 'OPTIONS' | 'HEAD';
  readonly url: string;
  /** A string is sent as it is (set its content-type in headers); anything else as JSON. */
  readonly payload?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface HttpResponse {
  readonly statusCode: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The body as text, whatever its content type. */
  readonly body: string;
  json(): any;
}

/**
 * Sends one request over a real socket with supertest (the app's server on an ephemeral port),
 * so HTTP parsing, content types and body limits are exercised as a client meets them.
 */
export async function send(app: FastifyInstance, req: HttpRequest): Promise<HttpResponse> {
  let test = request(app.server)[req.method.toLowerCase() as 'get'](req.url);
  for (const [k, v] of Object.entries(req.headers ?? {})) test = test.set(k, v);
  if (req.payload !== undefined) test = test.send(req.payload as object);
  const res = await test.buffer(true).parse((stream, done) => {
    let text = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => (text += chunk));
    stream.on('end', () => done(null, text));
  });
  const body = res.body as string;
  return { statusCode: res.status, headers: res.headers, body, json: () => JSON.parse(body) };
}
