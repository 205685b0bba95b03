import { describe, expect, it } from 'vitest';
import { CliError, codeForStatus, EXIT_CODES } from './cli-error.js';

describe('exit statuses', () => {
  it('has the documented status for each code', () => {
    expect(EXIT_CODES).toEqual({ USAGE: 2, INPUT: 2, NOT_FOUND: 3, CONFLICT: 4, SERVER: 1, UNREACHABLE: 1 });
  });

  it.each([
    [400, 'SERVER', 1],
    [404, 'NOT_FOUND', 3],
    [409, 'CONFLICT', 4],
    [413, 'SERVER', 1],
    [500, 'SERVER', 1],
    [503, 'SERVER', 1],
  ] as const)('maps HTTP %i to %s (exit %i)', (status, code, exit) => {
    expect(codeForStatus(status)).toBe(code);
    expect(new CliError(codeForStatus(status), 'x', { status }).exitCode).toBe(exit);
  });
});
