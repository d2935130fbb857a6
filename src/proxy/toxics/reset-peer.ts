import { later, type Timer } from "./timer.js";
import type { ToxicKind } from "./toxic.js";

/**
 * Simulates "connection reset by peer": once data (or the end of the stream) arrives in its direction, it
 * drops it and, after `timeout` milliseconds, closes the whole connection. The close is a TCP RST when
 * the toxic was there as the connection opened (linger 0, even where its toxicity drew a pass); added to
 * a connection already open, it is an ordinary close, as in Toxiproxy.
 */
export const resetPeer: ToxicKind = {
  goType: "ResetToxic",
  defaults: { timeout: 0 },
  lingerZero: true,
  create({ timeout = 0 }, out) {
    let timer: Timer | undefined;
    const arm = (): void => {
      timer ??= later(() => out.close(), Math.max(0, timeout));
    };
    return {
      write: arm,
      end: arm,
      buffered: 0,
      detach() {
        timer?.clear();
        return { chunks: [], ended: false };
      },
    };
  },
};
