/**
 * Assertions for the error contract: REST `{"error": "<message>", "code": "SIBYL_..."}` + status,
 * gRPC code + message + the `sibyl-error-code` trailer.
 */
import { expect } from 'vitest';
import { grpc, grpcError } from './grpc-client.js';
import { errorMessage, type HttpAnswer } from './http.js';

/** What a message must name: a literal, or a pattern when several spellings are right (`'x'` or `inputs[0]`). */
export type Mention = string | RegExp;

function expectMentions(message: string, mentions: readonly Mention[]): void {
  for (const m of mentions) {
    if (typeof m === 'string') expect(message, `error message should name ${m}`).toContain(m);
    else expect(message, `error message should match ${m}`).toMatch(m);
  }
}

/** Checks status, JSON body `{"error": string, "code": "SIBYL_..."}` and that the message names each of `mentions`. */
export function expectRestError(answer: HttpAnswer, status: number, mentions: readonly Mention[] = []): string {
  expect(answer.status, `HTTP status; body: ${answer.text.slice(0, 500)}`).toBe(status);
  expect(answer.headers.get('content-type') ?? '').toMatch(/^application\/json/);
  const message = errorMessage(answer);
  expect(Object.keys(answer.json as object)).toEqual(['error', 'code']);
  expect((answer.json as { code: unknown }).code).toMatch(/^SIBYL_[A-Z0-9_]+$/);
  expectMentions(message, mentions);
  return message;
}

/** Awaits a call that must fail with `code`; checks the status details name each of `mentions`. */
export async function expectGrpcError(
  call: Promise<unknown>,
  code: grpc.status,
  mentions: readonly Mention[] = [],
): Promise<string> {
  const err = await grpcError(call);
  expect(grpc.status[err.code], `gRPC code; details: ${err.details}`).toBe(grpc.status[code]);
  // grpc-js itself answers these two (the client's deadline timer, the message size limit) before
  // any Sibyl code runs, so no trailer then.
  if (code !== grpc.status.DEADLINE_EXCEEDED && code !== grpc.status.RESOURCE_EXHAUSTED) {
    expect(err.metadata?.get('sibyl-error-code')[0], 'sibyl-error-code trailer').toMatch(/^SIBYL_[A-Z0-9_]+$/);
  }
  expectMentions(err.details, mentions);
  return err.details;
}
