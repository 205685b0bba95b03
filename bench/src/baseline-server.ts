/**
 * The yardstick: the smallest honest one-model service a team would write by hand with fastify and
 * onnxruntime-node. One POST route; fastify's default JSON parser and serializer; the ort tensor
 * built from the JSON `data`; a v2-shaped JSON response. No validation beyond what ort does, no
 * metrics, no logging. Sibyl's REST JSON throughput is judged against this.
 *
 *   node bench/dist/baseline-server.js <model.onnx> [model-name]
 *
 * Listens on 127.0.0.1, a free port, and prints `{"event":"ready","listener":"http","port":N}`.
 * Exits when its stdin closes, so it never outlives the bench.
 */
import Fastify from 'fastify';
import ort from 'onnxruntime-node';

interface InferInput {
  name: string;
  shape: number[];
  datatype: string;
  data: number[];
}

const TENSOR_TYPE: Record<string, { type: 'float32' | 'float64' | 'int32' | 'int64'; from: (d: number[]) => ort.Tensor['data'] }> = {
  FP32: { type: 'float32', from: (d) => Float32Array.from(d) },
  FP64: { type: 'float64', from: (d) => Float64Array.from(d) },
  INT32: { type: 'int32', from: (d) => Int32Array.from(d) },
  INT64: { type: 'int64', from: (d) => BigInt64Array.from(d, BigInt) },
};

const DATATYPE: Record<string, string> = { float32: 'FP32', float64: 'FP64', int32: 'INT32', int64: 'INT64' };

async function main(): Promise<void> {
  const [modelPath, modelName = 'iris'] = process.argv.slice(2);
  if (modelPath === undefined) throw new Error('usage: baseline-server.js <model.onnx> [model-name]');
  const session = await ort.InferenceSession.create(modelPath);
  const app = Fastify({ logger: false });

  app.post(`/v2/models/${modelName}/infer`, async (request, reply) => {
    const { inputs } = request.body as { inputs: InferInput[] };
    const feeds: Record<string, ort.Tensor> = {};
    for (const input of inputs) {
      const kind = TENSOR_TYPE[input.datatype];
      if (kind === undefined) return reply.code(400).send({ error: `unsupported datatype ${input.datatype}` });
      feeds[input.name] = new ort.Tensor(kind.type, kind.from(input.data), input.shape);
    }
    const results = await session.run(feeds);
    return {
      model_name: modelName,
      model_version: '1',
      outputs: session.outputNames.map((name) => {
        const t = results[name]!;
        const data = t.data as ArrayLike<number | bigint>;
        return { name, datatype: DATATYPE[t.type] ?? t.type, shape: t.dims, data: Array.from(data, Number) };
      }),
    };
  });

  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  process.stdout.write(`${JSON.stringify({ event: 'ready', listener: 'http', port })}\n`);
  process.stdin.on('end', () => process.exit(0)).resume();
}

main().catch((err: unknown) => {
  process.stderr.write(`baseline-server: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
