import { bandwidth } from "./bandwidth.js";
import { latency } from "./latency.js";
import { limitData } from "./limit-data.js";
import { noop } from "./noop.js";
import { resetPeer } from "./reset-peer.js";
import { slicer } from "./slicer.js";
import { slowClose } from "./slow-close.js";
import { timeout } from "./timeout.js";
import type { ToxicKind } from "./toxic.js";

/** Every toxic type by the name the API uses; an unknown name is a 400 "invalid toxic type". */
export const TOXICS: ReadonlyMap<string, ToxicKind> = new Map([
  ["noop", noop],
  ["latency", latency],
  ["bandwidth", bandwidth],
  ["slow_close", slowClose],
  ["timeout", timeout],
  ["reset_peer", resetPeer],
  ["slicer", slicer],
  ["limit_data", limitData],
]);
