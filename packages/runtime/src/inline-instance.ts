/**
 * The inline execution instance: the session runs on the main thread, so a request costs no thread
 * hop, but its compute holds the event loop. Chosen for models whose runs are short (see
 * execution-mode.ts for where the line is).
 */
import type { ExecutionInstance } from './execution-instance.js';
import { createOrtSession } from './ort-session.js';
import type { SessionSettings } from './wire.js';

export async function createInlineInstance(modelPath: string, settings: SessionSettings): Promise<ExecutionInstance> {
  const session = await createOrtSession(modelPath, settings);
  let closed: Promise<void> | undefined;
  return {
    kind: 'inline',
    info: session.info,
    run(feeds, fetches) {
      if (closed !== undefined) return Promise.reject(new Error('the execution instance is closed'));
      return session.run(feeds, fetches);
    },
    close() {
      closed ??= session.release();
      return closed;
    },
  };
}
