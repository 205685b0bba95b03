import { describe, expect, it } from 'vitest';
import { SERVER_NODE_FLAGS, startScriptNodeFlags } from './paths.js';

const manifest = (start: string | undefined) => JSON.stringify({ scripts: start === undefined ? {} : { start } });

describe('startScriptNodeFlags', () => {
  it('takes the flags between node and the entry point', () => {
    expect(startScriptNodeFlags(manifest('node --initial-old-space-size=128 --max-semi-space-size=16 apps/sibyl/dist/main.js --http-port 0'))).toEqual([
      '--initial-old-space-size=128',
      '--max-semi-space-size=16',
    ]);
    expect(startScriptNodeFlags(manifest('node apps/sibyl/dist/main.js'))).toEqual([]);
  });

  it('refuses a start script that does not run node', () => {
    expect(() => startScriptNodeFlags(manifest('tsx apps/sibyl/src/main.ts'))).toThrow(/does not run node/);
    expect(() => startScriptNodeFlags(manifest(undefined))).toThrow(/does not run node/);
  });

  it('gives the bench the flags of the repository’s own npm start', () => {
    expect(SERVER_NODE_FLAGS).toContain('--initial-old-space-size=128');
  });
});
