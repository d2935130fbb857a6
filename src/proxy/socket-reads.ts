import type { Socket } from "node:net";

/** One read: `length` bytes at the start of `buffer`. The buffer is read into again once this returns. */
export type ReadCallback = (length: number, buffer: Buffer) => void;

interface UserBufferHandle {
  reading?: boolean;
  useUserBuffer?: (buffer: Uint8Array) => void;
}

/**
 * Makes `socket` read straight into buffers the caller owns and hand each read to `onRead`, instead of
 * allocating a Buffer per read and emitting 'data'. This is Node's `onread` socket option, applied to a
 * socket that already exists: a server's accepted sockets cannot be given that option. `nextBuffer` names
 * the buffer of the next read; it is asked once now and again after every read.
 *
 * It sets the private fields the option sets (found by their symbol names, present from Node 12 to 24),
 * so it checks for them first: where they are missing, or the socket is already reading, it changes
 * nothing and returns false, and the caller reads through 'data' events instead. Throws nothing.
 */
export function readIntoOwnBuffers(socket: Socket, nextBuffer: () => Buffer, onRead: ReadCallback): boolean {
  const fields = socket as unknown as Record<symbol, unknown>;
  const symbols = Object.getOwnPropertySymbols(socket);
  const named = (name: string): symbol | undefined => symbols.find((s) => s.description === name);
  const kBuffer = named("kBuffer");
  const kBufferCb = named("kBufferCb");
  const kBufferGen = named("kBufferGen");
  const handle = (socket as unknown as { _handle?: UserBufferHandle | null })._handle;
  if (!kBuffer || !kBufferCb || !kBufferGen || typeof handle?.useUserBuffer !== "function") return false;
  if (handle.reading || fields[kBuffer] !== null || fields[kBufferCb] !== null) return false;
  const first = nextBuffer();
  fields[kBuffer] = first;
  fields[kBufferCb] = onRead;
  fields[kBufferGen] = nextBuffer;
  handle.useUserBuffer(first);
  return true;
}
