/**
 * Who makes a change: the `x-sibyl-actor` header (the CLI sends `$USER`, or `--actor`), recorded in
 * the audit log with every change. Without it the actor is "anonymous". It is a label, not an
 * identity: nothing authenticates it.
 */
import type { FastifyRequest } from 'fastify';
import { actorInvalid } from './errors.js';

export const ACTOR_HEADER = 'x-sibyl-actor';
export const ANONYMOUS_ACTOR = 'anonymous';

const MAX_ACTOR_CHARS = 256;

export function actorOf(request: FastifyRequest): string {
  const given = request.headers[ACTOR_HEADER];
  if (given === undefined) return ANONYMOUS_ACTOR;
  const value = Array.isArray(given) ? given.join(', ') : given;
  if (value.trim() === '' || value.length > MAX_ACTOR_CHARS || /[\x00-\x1f\x7f]/.test(value)) throw actorInvalid(value);
  return value.trim();
}
