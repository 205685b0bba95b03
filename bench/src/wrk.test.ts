import { describe, expect, it } from 'vitest';
import { parseWrk } from './wrk.js';

const OUTPUT = `Running 2s test @ http://127.0.0.1:40159/v2/models/iris/infer
  1 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   849.21us  794.39us  11.41ms   94.83%
    Req/Sec    18.46k     1.02k   19.75k    70.00%
  Latency Distribution
     50%  626.00us
     75%  823.00us
     90%    1.21ms
     99%    1.14s
  36736 requests in 2.00s, 12.72MB read
  Non-2xx or 3xx responses: 3
  Socket errors: connect 0, read 1, write 0, timeout 2
Requests/sec:  18367.42
Transfer/sec:      6.36MB
`;

describe('parseWrk', () => {
  it('reads throughput, percentiles in any unit, and errors', () => {
    expect(parseWrk(OUTPUT)).toEqual({ requestsPerSecond: 18367.42, p50Us: 626, p99Us: 1_140_000, non2xx: 3, socketErrors: 3 });
  });

  it('says so when the output has no throughput line', () => {
    expect(parseWrk('unable to connect').error).toMatch(/no Requests\/sec/);
  });
});
