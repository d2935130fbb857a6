import { STATUS_CODES } from "node:http";
import type { ConnectionControl, Direction } from "../link.js";
import type { HttpAttributes, HttpToxicKind, MessagePlan } from "../toxics/http-toxic.js";
import type { ToxicOutput, ToxicStage } from "../toxics/toxic.js";
import type { Framing } from "./body.js";
import {
  type Header,
  type RequestHead,
  requestBytes,
  responseBytes,
  type ScannedRequest,
  type ScannedResponse,
  scanRequestHead,
  scanResponseHead,
  tokensOf,
  valuesOf,
  withoutHeaders,
} from "./head.js";
import { matches } from "./match.js";
import { OrderedOutput } from "./output.js";
import { MessageReader, type MessageSink } from "./reader.js";

/** An HTTP toxic as a connection needs it; read live, so a change applies from the next message on. */
export interface HttpToxicSpec {
  name: string;
  kind: HttpToxicKind;
  attributes: HttpAttributes;
  toxicity: number;
}

/** One request on the connection, from its head until its response is complete. */
interface Exchange {
  request: ScannedRequest;
  /** Answered by the proxy: the whole answer, when it may go, and whether the connection ends after it. */
  local?: { bytes: Buffer; due: number; close: boolean };
  /** The connection ends after this exchange (`Connection: close`, HTTP/1.0 without keep-alive). */
  close: boolean;
}

const EMPTY = Buffer.alloc(0);

/** How a request's body is framed; undefined when the framing is ambiguous or broken (then: raw bytes). */
function requestFraming({ codings: te, lengths }: ScannedRequest): Framing | undefined {
  if (te.length > 0)
    return te[te.length - 1] === "chunked" && lengths.length === 0 ? { kind: "chunked" } : undefined;
  return lengthFraming(lengths) ?? { kind: "none" };
}

function lengthFraming(lengths: string[]): Framing | undefined | null {
  if (lengths.length === 0) return null;
  if (lengths.length === 1 && /^\d{1,15}$/.test(lengths[0]!))
    return { kind: "length", length: Number(lengths[0]) };
  const values = new Set(lengths.flatMap((v) => v.split(",").map((s) => s.trim())));
  const [only] = values;
  if (values.size !== 1 || !/^\d{1,15}$/.test(only!)) return undefined;
  return { kind: "length", length: Number(only) };
}

function responseFraming(response: ScannedResponse, request: RequestHead): Framing | undefined {
  const { status, codings: te } = response;
  if (request.method === "HEAD" || status === 204 || status === 304) return { kind: "none" };
  if (te.length > 0) return te[te.length - 1] === "chunked" ? { kind: "chunked" } : { kind: "close" };
  const length = lengthFraming(response.lengths);
  return length === null ? { kind: "close" } : length;
}

/** Whether the message ends its connection, from its `Connection` tokens. */
function closes(version: string, connection: string[]): boolean {
  return version === "1.0" ? !connection.includes("keep-alive") : connection.includes("close");
}

function withLength(headers: Header[], length: number): Header[] {
  return [
    ...withoutHeaders(headers, "content-length", "transfer-encoding"),
    ["Content-Length", String(length)],
  ];
}

/** The whole answer the proxy gives in place of the upstream. */
function answerBytes(plan: MessagePlan, request: RequestHead, close: boolean): Buffer {
  const body = plan.body ?? EMPTY;
  const headers = withLength(withoutHeaders(plan.headers, "connection"), body.length);
  if (body.length > 0 && valuesOf(headers, "content-type").length === 0) {
    headers.push(["Content-Type", "text/plain; charset=utf-8"]);
  }
  if (close) headers.push(["Connection", "close"]);
  else if (request.version === "1.0") headers.push(["Connection", "keep-alive"]);
  const status = plan.status ?? 500;
  const head = responseBytes({ version: "1.1", status, reason: STATUS_CODES[status] ?? "", headers });
  return request.method === "HEAD" ? head : Buffer.concat([head, body]);
}

/**
 * Sends one message's bytes at its due time; with a budget (an abort after N bytes), stops at the
 * budget and aborts the connection.
 */
class Sender {
  due = 0;
  private budget = Number.POSITIVE_INFINITY;
  private onSpent: (() => void) | undefined;

  constructor(readonly out: OrderedOutput) {}

  /** A new message: its due time, and an abort once `budget` of its bytes went out. */
  start(due: number, budget?: number, onSpent?: () => void): void {
    this.due = due;
    this.budget = budget ?? Number.POSITIVE_INFINITY;
    this.onSpent = onSpent;
    if (this.budget === 0) this.spend();
  }

  send(chunk: Buffer): void {
    if (this.budget === Number.POSITIVE_INFINITY) {
      this.out.push(chunk, this.due);
      return;
    }
    if (this.budget <= 0) return;
    const take = Math.min(this.budget, chunk.length);
    this.out.push(take === chunk.length ? chunk : chunk.subarray(0, take), this.due);
    this.budget -= take;
    if (this.budget === 0) this.spend();
  }

  /** The message ended: an abort still waiting for its budget happens now. */
  finish(): void {
    if (this.budget > 0 && this.budget !== Number.POSITIVE_INFINITY) this.spend();
  }

  private spend(): void {
    this.budget = -1;
    const onSpent = this.onSpent;
    this.onSpent = undefined;
    if (onSpent) this.out.schedule(onSpent, this.due);
  }
}

/**
 * The HTTP/1.1 stage of one connection, engaged only when its proxy has HTTP toxics. It reads requests
 * from the client and responses from the upstream, pairs them in order (pipelined requests included),
 * and lets the HTTP toxics hold, answer, rewrite or abort each exchange:
 *
 *   client ──▶ [request stage] ──▶ (upstream byte toxics) ──▶ upstream
 *                    │ answers made here, in their place in the order
 *                    ▼
 *   client ◀── (downstream byte toxics) ◀── [response stage] ◀── upstream
 *
 * Bodies stream through as they come (only a head is gathered). What is not HTTP/1.x (TLS, HTTP/2, an
 * upgraded connection, a malformed message) goes on byte for byte from there on. It knows nothing of
 * who listens or connects: the two stages are plain ToxicStages, placed by whoever owns the sockets.
 */
export class HttpSession {
  private readonly pending: Exchange[] = [];
  private toServer!: Sender;
  private toClient!: Sender;
  private readonly requests: MessageReader;
  private readonly responses: MessageReader;
  /** The request being read: its body goes on, or is dropped (answered here, or replaced). */
  private requestBody: "send" | "drop" = "send";
  private responseBody: "send" | "drop" = "send";
  /** Answered here with the connection ending: nothing more from the client goes anywhere. */
  private clientDone = false;
  /** An interim (1xx) response: the same exchange waits for its final one. */
  private interim = false;
  /** A toxic aborted the connection: everything still arriving is dropped. */
  private aborted = false;

  constructor(
    private readonly toxics: (direction: Direction) => readonly HttpToxicSpec[],
    private readonly control: ConnectionControl,
  ) {
    this.requests = new MessageReader(this.requestSink, true);
    this.responses = new MessageReader(this.responseSink, false);
  }

  /** The stage for the client → upstream direction. */
  requestStage(out: ToxicOutput): ToxicStage {
    const output = new OrderedOutput(out);
    this.toServer = new Sender(output);
    return this.stage(this.requests, output);
  }

  /** The stage for the upstream → client direction. */
  responseStage(out: ToxicOutput): ToxicStage {
    const output = new OrderedOutput(out);
    this.toClient = new Sender(output);
    return this.stage(this.responses, output);
  }

  private stage(reader: MessageReader, output: OrderedOutput): ToxicStage {
    return {
      write: (chunk) => {
        if (!this.aborted) reader.feed(chunk);
        this.flush();
      },
      end: () => {
        if (!this.aborted) reader.end();
        this.flush();
      },
      get buffered() {
        return reader.buffered + output.buffered;
      },
      detach: () => output.detach(),
    };
  }

  /** Hands on what either direction joined while a read was handled (answers made here go to the client). */
  private flush(): void {
    this.toServer.out.flush();
    this.toClient.out.flush();
  }

  /**
   * Runs the matching toxics of `direction`, in order, each drawing its toxicity for this message; the
   * message's headers are only read once one matches.
   */
  private plan(
    direction: Direction,
    request: RequestHead,
    message: { headers: Header[] },
  ): MessagePlan | undefined {
    const toxics = this.toxics(direction);
    let plan: MessagePlan | undefined;
    for (const toxic of toxics) {
      if (!matches(toxic.attributes.match, request) || !(Math.random() < toxic.toxicity)) continue;
      plan ??= { delay: 0, headers: [...message.headers], headersChanged: false };
      toxic.kind.apply(toxic.attributes, plan);
      if (plan.abort) break;
    }
    return plan;
  }

  private readonly abort = (reset: boolean) => (): void => {
    this.aborted = true;
    if (reset) this.control.reset();
    else this.control.close();
  };

  private readonly requestSink: MessageSink = {
    head: (raw) => {
      const request = scanRequestHead(raw);
      const framing = request && requestFraming(request);
      if (!request || !framing) return "raw";
      const connection = request.connection;
      const upgrade = request.method === "CONNECT" || connection.includes("upgrade");
      const close = closes(request.version, connection);
      if (this.clientDone) return framing;
      const exchange: Exchange = { request, close };
      const plan = this.plan("upstream", request, request);
      const due = plan && plan.delay > 0 ? performance.now() + plan.delay : 0;
      if (plan?.abort) {
        this.requestBody = "send";
        this.toServer.start(due, plan.abort.after, this.abort(plan.abort.reset));
        this.toServer.send(raw);
        return framing;
      }
      if (plan?.status !== undefined) {
        // A client that waits for "100 Continue" may or may not send its body now: only closing is safe.
        const waits = tokensOf(request.headers, "expect").includes("100-continue") && framing.kind !== "none";
        const closeAfter = close || upgrade || waits;
        exchange.local = { bytes: answerBytes(plan, request, closeAfter), due, close: closeAfter };
        this.requestBody = "drop";
        if (closeAfter) this.clientDone = true;
        this.pending.push(exchange);
        this.pump();
        return framing;
      }
      this.pending.push(exchange);
      this.toServer.start(due);
      if (plan?.body) {
        this.toServer.send(requestBytes({ ...request, headers: withLength(plan.headers, plan.body.length) }));
        this.toServer.send(plan.body);
        this.requestBody = "drop";
      } else {
        this.toServer.send(plan?.headersChanged ? requestBytes({ ...request, headers: plan.headers }) : raw);
        this.requestBody = "send";
      }
      // After an upgrade or the last request, the client's bytes are no longer HTTP requests to read.
      if (upgrade || close) this.requests.rawAfterMessage = true;
      return framing;
    },
    body: (chunk) => {
      if (this.requestBody === "send" && !this.clientDone) this.toServer.send(chunk);
    },
    bodyEnd: () => {
      this.requestBody = "send";
      this.toServer.finish();
    },
    raw: (chunk) => {
      if (!this.clientDone) this.toServer.send(chunk);
    },
    end: () => this.toServer.out.end(this.toServer.due),
  };

  private readonly responseSink: MessageSink = {
    head: (raw) => {
      const exchange = this.pending[0];
      const response = exchange && scanResponseHead(raw);
      if (!exchange || !response) return this.responsesRaw();
      if (response.status < 200) {
        this.interim = true;
        this.toClient.start(0);
        this.toClient.send(raw);
        // Switching protocols: from here on both directions are opaque.
        if (response.status === 101) this.responses.rawAfterMessage = true;
        return { kind: "none" };
      }
      const framing = responseFraming(response, exchange.request);
      if (!framing) return this.responsesRaw();
      if (exchange.request.method === "CONNECT") this.responses.rawAfterMessage = true;
      const plan = this.plan("downstream", exchange.request, response);
      const due = plan && plan.delay > 0 ? performance.now() + plan.delay : 0;
      this.responseBody = "send";
      const abort = plan?.abort;
      this.toClient.start(due, abort?.after, abort && this.abort(abort.reset));
      if (!plan || abort) {
        this.toClient.send(
          plan?.headersChanged ? responseBytes({ ...response, headers: plan.headers }) : raw,
        );
        return framing;
      }
      const hasBody = framing.kind !== "none";
      if (plan.status !== undefined) {
        const close =
          exchange.close || framing.kind === "close" || closes(response.version, response.connection);
        this.toClient.send(answerBytes(plan, exchange.request, close));
        this.responseBody = "drop";
      } else if (plan.body && hasBody) {
        this.toClient.send(
          responseBytes({ ...response, headers: withLength(plan.headers, plan.body.length) }),
        );
        this.toClient.send(plan.body);
        this.responseBody = "drop";
      } else {
        this.toClient.send(plan.headersChanged ? responseBytes({ ...response, headers: plan.headers }) : raw);
      }
      return framing;
    },
    body: (chunk) => {
      if (this.responseBody === "send") this.toClient.send(chunk);
    },
    bodyEnd: () => {
      if (this.interim) {
        this.interim = false;
        return;
      }
      this.toClient.finish();
      this.pending.shift();
      this.responseBody = "send";
      this.pump();
    },
    raw: (chunk) => this.toClient.send(chunk),
    end: () => this.toClient.out.end(this.toClient.due),
  };

  /** The upstream's answers can no longer be paired with requests: both directions are opaque from now. */
  private responsesRaw(): "raw" {
    this.requests.goRaw();
    this.pending.length = 0;
    this.toClient.start(this.toClient.due);
    return "raw";
  }

  /** Sends the answers made here that are next in line (their turn comes when the exchanges ahead are done). */
  private pump(): void {
    while (this.pending[0]?.local) {
      const { local } = this.pending.shift()!;
      this.toClient.out.push(local!.bytes, local!.due);
      if (local!.close) {
        this.toClient.out.end(local!.due);
        this.pending.length = 0;
        return;
      }
    }
  }
}
