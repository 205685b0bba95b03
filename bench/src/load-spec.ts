/** What the orchestrator asks of a load-generator process, and what the process answers (one JSON line). */
import type { CpuReport } from './cpu-usage.js';
import type { IrisExpectation } from './payloads.js';
import type { LatencySummary } from './stats.js';

export type Workload =
  /** In-process `session.run` on the iris model: the floor every server is measured against. */
  | 'iris-session'
  /** POST /v2/models/<model>/infer with JSON `data`. */
  | 'iris-json'
  /** The same request with the binary tensor data extension, outputs binary. */
  | 'iris-binary'
  /** gRPC ModelInfer with raw_input_contents. */
  | 'iris-grpc'
  /** 16 MiB FP32 through the identity model in-process: the floor for the large case. */
  | 'large-session'
  /** The same 16 MiB request body, echoed back by a bare node:http server: the transport floor. */
  | 'large-echo'
  /** 16 MiB FP32 through the identity model, REST binary extension both ways. */
  | 'large-binary'
  /** 16 MiB FP32 through the identity model, gRPC raw contents both ways. */
  | 'large-grpc';

export type LoadPlan =
  /** `concurrency` loops, each one request at a time, for warm-up then measured seconds. */
  | { kind: 'duration'; concurrency: number; warmupSeconds: number; seconds: number }
  /** Sequential requests; every response is checked, outside the timed span. */
  | { kind: 'count'; warmupRequests: number; requests: number };

export interface LoadSpec {
  workload: Workload;
  /** `http://127.0.0.1:<port>` for REST, `127.0.0.1:<port>` for gRPC, the model file for the session workloads. */
  address: string;
  /** Model name in the URL or ModelInferRequest. */
  model: string;
  plan: LoadPlan;
  /** iris workloads: the outputs every target must return. */
  irisExpected?: IrisExpectation;
  /** large workloads: the identity model's tensor names. */
  identity?: { input: string; output: string };
  /** The server's process id, for its CPU time over the measured span (duration plans). */
  serverPid?: number;
}

export interface LoadResult {
  workload: Workload;
  plan: LoadPlan;
  /** Requests completed inside the measured span. */
  completed: number;
  /** Length of the measured span, seconds. */
  measuredSeconds: number;
  /** completed / measuredSeconds. */
  requestsPerSecond: number;
  latency: LatencySummary;
  /** Failed requests (non-200 status, gRPC error, wrong output) in the whole run, warm-up included. */
  errors: number;
  firstError?: string;
  /** Responses checked against the expected outputs, and how many matched. */
  checked: number;
  checkedOk: number;
  /** Completions past the preallocated sample buffer: counted for throughput, not in the latency figures. */
  droppedSamples: number;
  /** CPU over the measured span (duration plans only). */
  cpu?: CpuReport;
}
