import { later, type Timer } from "./timer.js";
import type { ToxicKind } from "./toxic.js";

/** Lets data through untouched but delays the end of the stream (the close) by `delay` milliseconds. */
export const slowClose: ToxicKind = {
  goType: "SlowCloseToxic",
  defaults: { delay: 0 },
  create({ delay = 0 }, out) {
    let timer: Timer | undefined;
    let ended = false;
    return {
      write: (chunk) => out.push(chunk),
      end() {
        ended = true;
        timer = later(() => {
          ended = false;
          out.end();
        }, delay);
      },
      buffered: 0,
      detach() {
        timer?.clear();
        return { chunks: [], ended };
      },
    };
  },
};
