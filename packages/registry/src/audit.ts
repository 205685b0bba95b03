/**
 * The audit log and the change announcements, written together: every registry change calls
 * `recordChange` inside its transaction, so the event and the NOTIFY exist exactly when the change
 * commits. Listeners get `{ model, kind, eventId }` and re-read the database; the payload is a hint,
 * never the data.
 */
import type { Queryable } from './db.js';
import { EVENT_COLUMNS, toEvent, type EventRow } from './rows.js';
import type { AuditAction, AuditEvent, AuditScope, RegistryChange } from './registry-types.js';

/** The NOTIFY channel of registry changes. */
export const REGISTRY_CHANNEL = 'sibyl_registry';

export interface ChangeRecord {
  actor: string;
  /** Default 'model'. */
  scope?: AuditScope;
  /** The model name; the pool name for scope 'pool', the rule id for scope 'route'. */
  model: string | number;
  action: AuditAction;
  from?: string | number | null;
  to?: string | number | null;
  detail?: Record<string, unknown>;
}

function text(value: string | number | null | undefined): string | null {
  return value === undefined || value === null ? null : String(value);
}

export async function recordChange(tx: Queryable, change: ChangeRecord): Promise<AuditEvent> {
  const { rows } = await tx.query<EventRow>(
    `INSERT INTO audit_events (actor, scope, model, action, from_value, to_value, detail)
     VALUES ($1, $2, $3, $4, $5, $6, $7::text::jsonb)
     RETURNING ${EVENT_COLUMNS}`,
    [
      change.actor,
      change.scope ?? 'model',
      String(change.model),
      change.action,
      text(change.from),
      text(change.to),
      JSON.stringify(change.detail ?? {}),
    ],
  );
  const event = toEvent(rows[0]!);
  const payload: RegistryChange = { kind: change.action, model: event.model, eventId: event.id };
  await tx.query('SELECT pg_notify($1, $2)', [REGISTRY_CHANNEL, JSON.stringify(payload)]);
  return event;
}

/** Parses a NOTIFY payload; undefined for anything that is not one of ours. */
export function parseChange(payload: string): RegistryChange | undefined {
  try {
    const value: unknown = JSON.parse(payload);
    if (typeof value !== 'object' || value === null) return undefined;
    const { kind, model, eventId } = value as Record<string, unknown>;
    if (typeof kind !== 'string' || typeof model !== 'string' || typeof eventId !== 'number') return undefined;
    return { kind: kind as RegistryChange['kind'], model, eventId };
  } catch {
    return undefined;
  }
}
