import type { ToxicKind } from "./toxic.js";

/**
 * Lets `bytes` bytes through in its direction, then closes the connection. The count survives an update of
 * the toxic (it is per-connection state), as in Toxiproxy.
 */
export const limitData: ToxicKind = {
  goType: "LimitDataToxic",
  defaults: { bytes: 0 },
  newState: () => ({ transmitted: 0 }),
  create({ bytes = 0 }, out, state) {
    let closed = false;
    const check = (): void => {
      if (!closed && (state.transmitted ?? 0) >= bytes) {
        closed = true;
        out.close();
      }
    };
    return {
      write(chunk) {
        if (closed) return;
        const remaining = Math.max(0, bytes - (state.transmitted ?? 0));
        const piece = chunk.length > remaining ? chunk.subarray(0, remaining) : chunk;
        if (piece.length > 0) {
          state.transmitted = (state.transmitted ?? 0) + piece.length;
          out.push(piece);
        }
        check();
      },
      end: () => out.end(),
      buffered: 0,
      detach: () => ({ chunks: [], ended: false }),
    };
  },
};
