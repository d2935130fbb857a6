import { durationSchema, formatDuration, parseDuration } from "../../experiments/duration.js";
import { toxicAction } from "./toxic-action.js";

const ms = (value: unknown, fallback = 0): number =>
  value === undefined ? fallback : Math.round(parseDuration(value));
const duration = (description: string) => ({ ...durationSchema, description });
const integer = (description: string, minimum = 0) => ({ type: "integer", minimum, description });

export const latencyAction = toxicAction({
  name: "latency",
  type: "latency",
  description: "delay data by `latency` ± `jitter` (e.g. 300ms)",
  args: { latency: duration("added delay, e.g. 300ms"), jitter: duration("random spread ±, default 0") },
  required: ["latency"],
  attributes: (a) => ({ latency: ms(a.latency), jitter: ms(a.jitter) }),
  label: (a) =>
    `latency ${formatDuration(ms(a.latency))}${a.jitter ? ` ±${formatDuration(ms(a.jitter))}` : ""}`,
});

export const bandwidthAction = toxicAction({
  name: "bandwidth",
  type: "bandwidth",
  description: "cap throughput at `rate` KB/s",
  args: { rate: integer("KB per second (1 KB = 1000 bytes)") },
  required: ["rate"],
  attributes: (a) => ({ rate: a.rate as number }),
  label: (a) => `bandwidth ${a.rate} KB/s`,
});

export const timeoutAction = toxicAction({
  name: "timeout",
  type: "timeout",
  description:
    "drop all data; close a connection once it was idle for `timeout` (0 = hold it open); the revert closes it",
  args: { timeout: duration("idle time before a connection closes; 0 (default) = never") },
  attributes: (a) => ({ timeout: ms(a.timeout) }),
  label: (a) => `timeout ${formatDuration(ms(a.timeout))}`,
});

export const resetPeerAction = toxicAction({
  name: "reset-peer",
  type: "reset_peer",
  description: "reset connections (TCP RST) `timeout` after data arrives",
  args: { timeout: duration("delay before the reset, default 0") },
  attributes: (a) => ({ timeout: ms(a.timeout) }),
  label: (a) => `reset-peer after ${formatDuration(ms(a.timeout))}`,
});

export const slowCloseAction = toxicAction({
  name: "slow-close",
  type: "slow_close",
  description: "delay the closing of connections by `delay`",
  args: { delay: duration("how long the close is held back") },
  required: ["delay"],
  attributes: (a) => ({ delay: ms(a.delay) }),
  label: (a) => `slow-close ${formatDuration(ms(a.delay))}`,
});

export const slicerAction = toxicAction({
  name: "slicer",
  type: "slicer",
  description: "slice data into small pieces (`average_size` ± `size_variation` bytes), `delay` apart",
  args: {
    average_size: integer("average piece size in bytes", 1),
    size_variation: integer("± bytes around the average, default 0"),
    delay: duration("pause before each piece, default 0 (sub-millisecond values allowed, e.g. 500us)"),
  },
  required: ["average_size"],
  attributes: (a) => ({
    average_size: a.average_size as number,
    size_variation: (a.size_variation as number | undefined) ?? 0,
    delay: a.delay === undefined ? 0 : Math.round(parseDuration(a.delay) * 1000), // Toxiproxy counts µs
  }),
  label: (a) => `slicer ${a.average_size}±${(a.size_variation as number | undefined) ?? 0} bytes`,
});

export const limitDataAction = toxicAction({
  name: "limit-data",
  type: "limit_data",
  description: "close connections once `bytes` bytes went through",
  args: { bytes: integer("bytes allowed per connection and stream") },
  required: ["bytes"],
  attributes: (a) => ({ bytes: a.bytes as number }),
  label: (a) => `limit-data ${a.bytes} bytes`,
});
