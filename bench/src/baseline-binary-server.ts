/**
 * The yardstick for the 16 MiB case: the smallest one-model fastify + onnxruntime-node service that
 * speaks Triton's binary tensor data extension (FP32 inputs and outputs only), written the obvious
 * way: fastify collects the body into one Buffer, the response is one concatenated Buffer. It shows
 * what a Node HTTP service costs for a large tensor, and checks the bench's binary client before
 * Sibyl is there to check it against.
 *
 *   node bench/dist/baseline-binary-server.js <model.onnx> [model-name]
 *
 * Listens on 127.0.0.1, a free port, and prints `{"event":"ready","listener":"http","port":N}`.
 * Exits when its stdin closes.
 */
import Fastify from 'fastify';
import ort from 'onnxruntime-node';

interface BinaryInput {
  name: string;
  shape: number[];
  datatype: string;
  parameters?: { binary_data_size?: number };
}

async function main(): Promise<void> {
  const [modelPath, modelName = 'identity'] = process.argv.slice(2);
  if (modelPath === undefined) throw new Error('usage: baseline-binary-server.js <model.onnx> [model-name]');
  const session = await ort.InferenceSession.create(modelPath);
  const app = Fastify({ logger: false, bodyLimit: 64 * 1024 * 1024 });
  app.addContentTypeParser('application/octet-stream', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

  app.post(`/v2/models/${modelName}/infer`, async (request, reply) => {
    const body = request.body as Buffer;
    const headerLength = Number(request.headers['inference-header-content-length']);
    const header = JSON.parse(body.subarray(0, headerLength).toString('utf8')) as { inputs: BinaryInput[] };
    const feeds: Record<string, ort.Tensor> = {};
    let offset = headerLength;
    for (const input of header.inputs) {
      const size = input.parameters?.binary_data_size ?? 0;
      if (input.datatype !== 'FP32') return reply.code(400).send({ error: `unsupported datatype ${input.datatype}` });
      // A Float32Array needs 4-byte alignment; the blob sits wherever the header ended.
      const blob = (body.byteOffset + offset) % 4 === 0 ? body.subarray(offset, offset + size) : Buffer.from(body.subarray(offset, offset + size));
      feeds[input.name] = new ort.Tensor('float32', new Float32Array(blob.buffer, blob.byteOffset, size / 4), input.shape);
      offset += size;
    }
    const results = await session.run(feeds);
    const blobs: Buffer[] = [];
    const outputs = session.outputNames.map((name) => {
      const data = results[name]!.data as Float32Array;
      blobs.push(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
      return { name, datatype: 'FP32', shape: results[name]!.dims, parameters: { binary_data_size: data.byteLength } };
    });
    const json = Buffer.from(JSON.stringify({ model_name: modelName, model_version: '1', outputs }));
    return reply
      .header('content-type', 'application/octet-stream')
      .header('inference-header-content-length', String(json.byteLength))
      .send(Buffer.concat([json, ...blobs]));
  });

  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  process.stdout.write(`${JSON.stringify({ event: 'ready', listener: 'http', port })}\n`);
  process.stdin.on('end', () => process.exit(0)).resume();
}

main().catch((err: unknown) => {
  process.stderr.write(`baseline-binary-server: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
