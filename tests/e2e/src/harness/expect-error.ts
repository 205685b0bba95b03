/** Assertions for the error contract: REST `{"error": "<message>"}` + status, gRPC code + message. */
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

/** Checks status, JSON body `{"error": string}` and that the message names each of `mentions`. */
export function expectRestError(answer: HttpAnswer, status: number, mentions: readonly Mention[] = []): string {
  expect(answer.status, `HTTP status; body: ${answer.text.slice(0, 500)}`).toBe(status);
  expect(answer.headers.get('content-type') ?? '').toMatch(/^application\/json/);
  const message = errorMessage(answer);
  expect(Object.keys(answer.json as object)).toEqual(['error']);
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
  expectMentions(err.details, mentions);
  return err.details;
}
