import {
  Toxic,
  type ToxicDirection,
  type ToxicType,
  type Toxiproxy,
  Proxy as ToxiproxyProxy,
} from "toxiproxy-node-client";
import { agentError, ChaosError } from "../../experiments/errors.js";
import { statusOf } from "./session.js";

/** A proxy as the server reports it. */
export interface ProxyState {
  name: string;
  listen: string;
  upstream: string;
  enabled: boolean;
}

export interface ToxicState {
  name: string;
  type: string;
  stream: string;
  toxicity: number;
  attributes: Record<string, unknown>;
}

export interface NewToxic {
  name: string;
  /** Toxiproxy's types, or the HTTP ones only chaoskit's proxy knows (`http_status`). */
  type: ToxicType | `http_${string}`;
  stream: ToxicDirection;
  toxicity: number;
  attributes: Record<string, unknown>;
}

/**
 * The few Toxiproxy API calls the agent makes, all through toxiproxy-node-client. A 404 where "gone" is a
 * fine answer comes back as undefined/false; every other failure is a ChaosError("agent") naming the URL.
 */
export class ToxiproxyOps {
  constructor(
    readonly url: string,
    private readonly client: Toxiproxy,
  ) {}

  /** @throws ChaosError("agent") when the call fails other than with 404. */
  async proxy(name: string): Promise<ProxyState | undefined> {
    try {
      const p = await this.client.get(encodeURIComponent(name));
      return { name: p.name, listen: p.listen, upstream: p.upstream, enabled: p.enabled };
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw this.fail(`reading proxy ${name}`, err);
    }
  }

  /** @throws ChaosError("agent") when the call fails other than with 404. */
  async toxics(proxy: string): Promise<ToxicState[] | undefined> {
    try {
      const res = await this.client.getApi().get<ToxicState[]>(`${this.path(proxy)}/toxics`);
      return res.data ?? [];
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw this.fail(`listing the toxics of ${proxy}`, err);
    }
  }

  /**
   * Creates the proxy; false when one of that name already exists.
   * @throws ChaosError("agent") otherwise, and when a proxy asked to terminate TLS comes back without it (a
   *         server that is not chaoskit's ignores the field; the proxy is removed again).
   */
  async createProxy(spec: {
    name: string;
    listen: string;
    upstream: string;
    tls?: Record<string, unknown>;
  }): Promise<boolean> {
    const body = { name: spec.name, listen: spec.listen, upstream: spec.upstream };
    let created: { tls?: unknown };
    try {
      if (!spec.tls) {
        await this.client.createProxy(body);
        return true;
      }
      const res = await this.client.getApi().post<{ tls?: unknown }>(`${this.url}/proxies`, {
        ...body,
        tls: spec.tls,
      });
      created = res.data ?? {};
    } catch (err) {
      if (statusOf(err) === 409) return false;
      throw this.fail(`creating proxy ${spec.name} (${spec.listen} → ${spec.upstream})`, err);
    }
    if (created.tls === undefined) {
      await this.deleteProxy(spec.name).catch(() => undefined);
      throw new ChaosError(
        "agent",
        `toxiproxy at ${this.url} does not terminate TLS: proxy ${spec.name} came back without its tls; nothing was injected`,
        { hint: "TLS termination needs chaoskit's proxy: the embedded one or `chaos proxy`" },
      );
    }
    return true;
  }

  /** False when it was already gone. @throws ChaosError("agent") otherwise. */
  async deleteProxy(name: string): Promise<boolean> {
    try {
      await this.handle(name).remove();
      return true;
    } catch (err) {
      if (statusOf(err) === 404) return false;
      throw this.fail(`deleting proxy ${name}`, err);
    }
  }

  /** @throws ChaosError("agent") when the call fails (404 included: the proxy must exist). */
  async setEnabled(proxy: ProxyState, enabled: boolean): Promise<void> {
    try {
      await this.handle(proxy.name).update({ enabled, listen: proxy.listen, upstream: proxy.upstream });
    } catch (err) {
      throw this.fail(`${enabled ? "enabling" : "disabling"} proxy ${proxy.name}`, err);
    }
  }

  /** @throws ChaosError("agent") when the toxic cannot be added. */
  async addToxic(proxy: string, toxic: NewToxic): Promise<void> {
    try {
      // The client's types list only Toxiproxy's own; the server decides what it knows.
      await this.handle(proxy).addToxic(toxic as Parameters<ToxiproxyProxy["addToxic"]>[0]);
    } catch (err) {
      throw this.fail(`adding toxic ${toxic.name} to ${proxy}`, err);
    }
  }

  /** False when it (or its proxy) was already gone. @throws ChaosError("agent") otherwise. */
  async removeToxic(proxy: string, name: string): Promise<boolean> {
    const body = { name, type: "latency", stream: "downstream", toxicity: 1, attributes: {} } as const;
    try {
      await new Toxic(this.client.getApi(), this.path(proxy), body).remove();
      return true;
    } catch (err) {
      if (statusOf(err) === 404) return false;
      throw this.fail(`removing toxic ${name} from ${proxy}`, err);
    }
  }

  private path(proxy: string): string {
    return `${this.url}/proxies/${encodeURIComponent(proxy)}`;
  }

  /** A client handle for a proxy by name; only its name is used to build paths. */
  private handle(name: string): ToxiproxyProxy {
    return new ToxiproxyProxy(this.client, {
      name: encodeURIComponent(name),
      listen: "",
      upstream: "",
      enabled: true,
      toxics: [],
    });
  }

  private fail(what: string, err: unknown) {
    return agentError(`toxiproxy at ${this.url}: ${what}`, err);
  }
}
