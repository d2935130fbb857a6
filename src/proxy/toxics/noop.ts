import type { ToxicKind } from "./toxic.js";

/** Passes everything through untouched: Toxiproxy's `noop` type, which has no attributes. */
export const noop: ToxicKind = {
  goType: "NoopToxic",
  defaults: {},
  create: (_attributes, out) => ({
    write: (chunk) => out.push(chunk),
    end: () => out.end(),
    buffered: 0,
    detach: () => ({ chunks: [], ended: false }),
  }),
};
