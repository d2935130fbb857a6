import type { ToxicKind } from "./toxic.js";

/**
 * Simulates "connection reset by peer": once data arrives in its direction, drops it and, after `timeout`
 * milliseconds, aborts the whole connection with a TCP RST.
 */
export const resetPeer: ToxicKind = {
  goType: "ResetToxic",
  defaults: { timeout: 0 },
  create({ timeout = 0 }, out) {
    let timer: NodeJS.Timeout | undefined;
    let armed = false;
    const arm = (): void => {
      if (armed) return;
      armed = true;
      if (timeout > 0) timer = setTimeout(() => out.reset(), timeout);
      else out.reset();
    };
    return {
      write: arm,
      end: arm,
      buffered: 0,
      detach() {
        clearTimeout(timer);
        return { chunks: [], ended: false };
      },
    };
  },
};
