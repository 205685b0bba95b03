import { describe, expect, it } from 'vitest';
import { GRPC_STATUS, GrpcCode, HTTP_STATUS, SibylError, defineError, toSibylError } from './sibyl-error.js';

describe('SibylError', () => {
  it('maps a category to its HTTP and gRPC status', () => {
    const err = new SibylError('SIBYL_X', 'NOT_FOUND', 'no such model');
    expect(err.httpStatus).toBe(404);
    expect(err.grpcCode).toBe(GrpcCode.NOT_FOUND);
    expect(HTTP_STATUS.CONFLICT).toBe(409);
    expect(GRPC_STATUS.DEADLINE_EXCEEDED).toBe(GrpcCode.DEADLINE_EXCEEDED);
  });

  it('defines coded factories and refuses a code twice', () => {
    const boom = defineError('SIBYL_TEST_BOOM', 'UNAVAILABLE', 'test only', (what: string) => `boom: ${what}`);
    const err = boom('queue');
    expect(err).toBeInstanceOf(SibylError);
    expect(err.code).toBe('SIBYL_TEST_BOOM');
    expect(err.message).toBe('boom: queue');
    expect(() => defineError('SIBYL_TEST_BOOM', 'INTERNAL', '', () => '')).toThrow(/twice/);
  });

  it('wraps unknown failures as INTERNAL', () => {
    const err = toSibylError(new TypeError('x is undefined'));
    expect(err.category).toBe('INTERNAL');
    expect(err.message).toContain('x is undefined');
  });
});
