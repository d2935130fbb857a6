import { bandwidth } from "./bandwidth.js";
import { httpAbort } from "./http-abort.js";
import { httpBody } from "./http-body.js";
import { httpDelay } from "./http-delay.js";
import { httpHeader } from "./http-header.js";
import { httpStatus } from "./http-status.js";
import type { HttpToxicKind } from "./http-toxic.js";
import { latency } from "./latency.js";
import { limitData } from "./limit-data.js";
import { noop } from "./noop.js";
import { resetPeer } from "./reset-peer.js";
import { slicer } from "./slicer.js";
import { slowClose } from "./slow-close.js";
import { timeout } from "./timeout.js";
import type { ToxicKind } from "./toxic.js";

/**
 * Every toxic type by the name the API uses; an unknown name is a 400 "invalid toxic type". The `http_`
 * types act per HTTP/1.x request; a proxy with any of them reads its new connections as HTTP.
 */
export const TOXICS: ReadonlyMap<string, ToxicKind | HttpToxicKind> = new Map<
  string,
  ToxicKind | HttpToxicKind
>([
  ["noop", noop],
  ["latency", latency],
  ["bandwidth", bandwidth],
  ["slow_close", slowClose],
  ["timeout", timeout],
  ["reset_peer", resetPeer],
  ["slicer", slicer],
  ["limit_data", limitData],
  ["http_status", httpStatus],
  ["http_delay", httpDelay],
  ["http_abort", httpAbort],
  ["http_header", httpHeader],
  ["http_body", httpBody],
]);
