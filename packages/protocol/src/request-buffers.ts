/**
 * Buffers that hold one request's input data and nothing that anyone reads once the request has been
 * handed to the data plane: a large REST body read into an ArrayBuffer of its own (the gateway's
 * rest-body.ts). A thread execution instance may move such a buffer to its thread as it is, with every
 * input view into it, instead of copying each input out of it first: for a 16 MiB tensor, one 16 MiB
 * allocation and copy less per request. Once moved the buffer is detached, so whoever marks one must
 * not read it after infer().
 */
const owned = new WeakSet<ArrayBufferLike>();

/** Marks `buffer` as one request's alone (see above). */
export function markRequestOwned(buffer: ArrayBufferLike): void {
  owned.add(buffer);
}

/** Whether `buffer` was marked by markRequestOwned. */
export function isRequestOwned(buffer: ArrayBufferLike): boolean {
  return owned.has(buffer);
}
