/** Small HTTP helpers over Node's fetch: every answer is read whole, JSON parsed losslessly. */
import { frameBinaryBody, parseBinaryResponse, type ParsedBinaryResponse } from './binary.js';
import { parseJson, stringifyJson, type JsonValue } from './json.js';

export interface HttpAnswer {
  status: number;
  headers: Headers;
  body: Buffer;
  text: string;
  /** The body parsed as JSON (64-bit integers kept exact); undefined when it is empty or not JSON. */
  json: JsonValue | undefined;
}

export async function httpRequest(
  url: string,
  init: { method?: string; body?: string | Uint8Array; headers?: Record<string, string> } = {},
): Promise<HttpAnswer> {
  const res = await fetch(url, { method: init.method ?? 'GET', body: init.body, headers: init.headers });
  const body = Buffer.from(await res.arrayBuffer());
  const text = body.toString('utf8');
  let json: JsonValue | undefined;
  const headerLength = res.headers.get('inference-header-content-length');
  try {
    json = text.length === 0 ? undefined : parseJson(headerLength === null ? text : body.subarray(0, Number(headerLength)).toString('utf8'));
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, body, text, json };
}

export const get = (url: string) => httpRequest(url);

/** POSTs `value` as JSON text (bigints written as integer literals). */
export const postJson = (url: string, value: unknown) =>
  httpRequest(url, { method: 'POST', body: stringifyJson(value), headers: { 'content-type': 'application/json' } });

/** POSTs a binary-extension body: JSON header `header`, then `blobs`. */
export function postBinary(url: string, header: unknown, blobs: readonly Uint8Array[]): Promise<HttpAnswer> {
  const { body, headerLength } = frameBinaryBody(header, blobs);
  return httpRequest(url, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(headerLength) },
  });
}

/** Splits an infer answer (JSON or binary) into its JSON part and output blobs. */
export function inferResult(answer: HttpAnswer): ParsedBinaryResponse {
  if (answer.status !== 200) throw new Error(`infer failed: HTTP ${answer.status} ${answer.text}`);
  const headerLength = answer.headers.get('inference-header-content-length');
  return parseBinaryResponse(answer.body, headerLength === null ? undefined : Number(headerLength));
}

/** The `error` string of an error answer; fails when the body is not `{"error": string}`. */
export function errorMessage(answer: HttpAnswer): string {
  const json = answer.json as { error?: unknown } | undefined;
  if (json === undefined || typeof json.error !== 'string') {
    throw new Error(`expected {"error": string}, got HTTP ${answer.status} ${JSON.stringify(answer.text.slice(0, 300))}`);
  }
  return json.error;
}
