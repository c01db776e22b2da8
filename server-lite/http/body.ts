// Reading and answering HTTP requests: JSON bodies are size-limited before parsing, must be sent as
// application/json, and are validated with zod at this boundary; every error leaves as
// `{"error":{"code","message"}}` with the status from the registry (errors.ts).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { z } from 'zod';
import { ServerError, errorBody, type ServerErrorCode } from '../errors.ts';
import { LIMITS } from '../limits.ts';
import { jsonDepth } from './json-depth.ts';
import { BodyTooLarge, readBounded } from '../../protocol/index.ts';

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export function sendNoContent(res: ServerResponse): void {
  res.writeHead(204);
  res.end();
}

export function sendError(res: ServerResponse, err: ServerError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (err.retryAfterSeconds !== undefined) res.setHeader('retry-after', String(err.retryAfterSeconds));
  // A refused body may still be streaming in: close instead of reading megabytes we rejected.
  if (err.code === 'BODY_TOO_LARGE') res.setHeader('connection', 'close');
  sendJson(res, err.status, errorBody(err.code, err.message));
}

export function fail(code: ServerErrorCode, message?: string): never {
  throw new ServerError(code, message);
}

function isJsonContentType(value: string | undefined): boolean {
  if (!value) return false;
  const type = value.split(';')[0]?.trim().toLowerCase();
  return type === 'application/json' || (type !== undefined && /^application\/[a-z0-9.+-]*\+json$/.test(type));
}

/** Reads at most LIMITS.maxBodyBytes; rejects early on Content-Length. */
export async function readBody(req: IncomingMessage, limit: number = LIMITS.maxBodyBytes): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? '0');
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    fail('BODY_TOO_LARGE', `the request body is larger than ${limit} bytes`);
  }
  try {
    return await readBounded(req, limit);
  } catch (err) {
    if (err instanceof BodyTooLarge) {
      req.resume();
      fail('BODY_TOO_LARGE', `the request body is larger than ${limit} bytes`);
    }
    // The connection went away (the client left, or a timeout closed it) before the body arrived.
    fail('REQUEST_ABORTED', `the connection closed before the request body arrived (${(err as Error).message})`);
  }
}

/**
 * Reads and validates a JSON body. An empty body counts as `{}` when `emptyAsObject` is set
 * (agent calls with nothing to say); otherwise the body must be JSON of the schema's shape.
 */
export async function readJson<S extends z.ZodType>(
  req: IncomingMessage,
  schema: S,
  opts: { emptyAsObject?: boolean } = {},
): Promise<z.infer<S>> {
  const hasBody = Number(req.headers['content-length'] ?? '0') > 0 || req.headers['transfer-encoding'] !== undefined;
  if (!hasBody && opts.emptyAsObject) {
    req.resume();
    return parseWith(schema, {});
  }
  if (!isJsonContentType(req.headers['content-type'])) {
    req.resume();
    fail('UNSUPPORTED_MEDIA_TYPE', `send the body as application/json (got ${req.headers['content-type'] ?? 'no content-type'})`);
  }
  const raw = await readBody(req);
  if (raw.length === 0 && opts.emptyAsObject) return parseWith(schema, {});
  const text = raw.toString('utf8');
  // Before parsing: a deeply nested body would be built by JSON.parse and then walked recursively.
  if (jsonDepth(text, LIMITS.maxJsonDepth) > LIMITS.maxJsonDepth) {
    fail('INVALID_REQUEST', `invalid request body: JSON nested deeper than ${LIMITS.maxJsonDepth} levels`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    fail('INVALID_JSON', `the request body is not valid JSON: ${(err as Error).message}`);
  }
  return parseWith(schema, value);
}

function parseWith<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
    fail('INVALID_REQUEST', `invalid request body: ${where}${issue?.message ?? 'does not match the schema'}`);
  }
  return parsed.data;
}
