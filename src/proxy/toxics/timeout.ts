import { later, type Timer } from "./timer.js";
import type { ToxicKind } from "./toxic.js";

/**
 * Stops all data, as Toxiproxy's timeout: what arrives is dropped. With `timeout` > 0 it is an idle
 * timeout: the connection closes once no data arrived for that many milliseconds (every chunk restarts
 * the wait). With 0 the connection stays open, stalled. The end of the stream closes the connection, and
 * so does removing the toxic.
 */
export const timeout: ToxicKind = {
  goType: "TimeoutToxic",
  defaults: { timeout: 0 },
  closesOnRemoval: true,
  create({ timeout = 0 }, out) {
    let timer: Timer | undefined;
    let lastData = performance.now();
    // One timer per idle period, not one per chunk: when it fires early it waits the rest.
    const wait = (ms: number): void => {
      timer = later(() => {
        const idle = performance.now() - lastData;
        if (idle >= timeout) out.close();
        else wait(timeout - idle);
      }, ms);
    };
    if (timeout > 0) wait(timeout);
    return {
      write() {
        lastData = performance.now();
      },
      end() {
        timer?.clear();
        out.close();
      },
      buffered: 0,
      detach() {
        timer?.clear();
        return { chunks: [], ended: false };
      },
    };
  },
};
