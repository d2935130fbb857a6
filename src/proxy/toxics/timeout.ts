import type { ToxicKind } from "./toxic.js";

/**
 * Stops all data: it is held (the source is paused by back-pressure) until the toxic is removed. With
 * `timeout` > 0 the connection is closed after that many milliseconds; with 0 it stays open, stalled.
 */
export const timeout: ToxicKind = {
  goType: "TimeoutToxic",
  defaults: { timeout: 0 },
  create({ timeout = 0 }, out) {
    const chunks: Buffer[] = [];
    let ended = false;
    let bytes = 0;
    const timer = timeout > 0 ? setTimeout(() => out.close(), timeout) : undefined;
    return {
      write(chunk) {
        chunks.push(chunk);
        bytes += chunk.length;
      },
      end() {
        ended = true;
      },
      get buffered() {
        return bytes;
      },
      detach() {
        clearTimeout(timer);
        return { chunks, ended };
      },
    };
  },
};
