import { Toxiproxy, ToxiproxyError } from "toxiproxy-node-client";

/** How long one call to Toxiproxy's API may take, connect to last byte, unless configured. */
export const DEFAULT_CALL_TIMEOUT_MS = 10_000;

type Api = Toxiproxy["api"];

/**
 * The four calls toxiproxy-node-client makes through its HttpClient, each with a deadline and the caller's
 * abort signal. The library calls `fetch` with neither, so a server that accepts connections and never
 * answers (or drips its answer) would hang a run, its Ctrl-C and `chaos rollback`. Errors keep the
 * library's shape (ToxiproxyError, "status code NNN") so that callers read statuses the same way.
 */
class BoundedApi {
  constructor(
    private readonly timeoutMs: number,
    private readonly signal?: AbortSignal,
  ) {}

  async get<T>(url: string): Promise<{ data: T }> {
    return this.json<T>("GET", url);
  }

  async post<T>(url: string, body?: unknown): Promise<{ data: T }> {
    return this.json<T>("POST", url, body);
  }

  async delete(url: string): Promise<void> {
    await this.json("DELETE", url);
  }

  getText(url: string): Promise<string> {
    return this.text(url, { method: "GET" });
  }

  private async json<T>(method: string, url: string, body?: unknown): Promise<{ data: T }> {
    const init: RequestInit = { method };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers = { "content-type": "application/json" };
    }
    const text = await this.text(url, init);
    if (text.length === 0) return { data: undefined as T };
    try {
      return { data: JSON.parse(text) as T };
    } catch {
      throw new ToxiproxyError("Error", `the answer is not JSON: ${JSON.stringify(text.slice(0, 60))}`);
    }
  }

  /** @throws ToxiproxyError for a non-2xx status, no answer within the deadline, an abort, or a network error. */
  private async text(url: string, init: RequestInit): Promise<string> {
    const res = await answer(url, init, this.timeoutMs, this.signal);
    if (res.status < 200 || res.status > 299) {
      throw new ToxiproxyError("Error", `Request failed with status code ${res.status}`);
    }
    return res.text;
  }
}

/**
 * One call with a deadline and the caller's abort signal, whatever its status: the status and the body.
 * @throws ToxiproxyError when nothing answered within the deadline, on an abort, or on a network error.
 */
export async function answer(
  url: string,
  init: RequestInit,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<{ status: number; text: string }> {
  const deadline = AbortSignal.timeout(timeoutMs);
  const both = signal ? AbortSignal.any([signal, deadline]) : deadline;
  try {
    const res = await fetch(url, { ...init, signal: both });
    // The deadline covers the body too: a server that drips it is cut off.
    return { status: res.status, text: await res.text() };
  } catch (err) {
    const cause = (err as Error & { cause?: Error }).cause?.message ?? (err as Error).message;
    const why = signal?.aborted
      ? "aborted (the run is stopping)"
      : deadline.aborted
        ? `no answer within ${timeoutMs}ms`
        : cause;
    throw new ToxiproxyError("Error", why);
  }
}

/**
 * A toxiproxy-node-client whose every call has a deadline (`timeoutMs`) and stops when `signal` aborts.
 * The library keeps its HTTP client in the public `api` field; only its four public calls are replaced.
 */
export function boundedClient(url: string, timeoutMs: number, signal?: AbortSignal): Toxiproxy {
  const client = new Toxiproxy(url);
  client.api = new BoundedApi(timeoutMs, signal) as unknown as Api;
  return client;
}
