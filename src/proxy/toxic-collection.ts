import { ErrToxicAlreadyExists, ErrToxicNotFound } from "./api-error.js";
import type { HttpToxicSpec } from "./http/session.js";
import type { Direction, Link, ToxicSpec } from "./link.js";

interface Envelope {
  type: string;
  /** The stream as the client spelled it; `direction` is its meaning. */
  stream: string;
  direction: Direction;
}

/** A byte toxic as configured on a proxy: a stage on each connection's link. */
export interface ByteToxic extends ToxicSpec, Envelope {}
/** An HTTP toxic as configured on a proxy: read per message by the connections' HTTP stage. */
export interface HttpToxic extends HttpToxicSpec, Envelope {}
export type Toxic = ByteToxic | HttpToxic;

export const isHttp = (t: Toxic): t is HttpToxic => t.kind.layer === "http";

/** The JSON Toxiproxy answers for a toxic, fields in its order. */
export function toxicJson(t: Toxic): {
  attributes: Toxic["attributes"];
  name: string;
  type: string;
  stream: string;
  toxicity: number;
} {
  return { attributes: t.attributes, name: t.name, type: t.type, stream: t.stream, toxicity: t.toxicity };
}

/**
 * The toxics of one proxy, per direction in the order they were added. Every change to a byte toxic is
 * applied at once to the live connections' links of that direction; HTTP toxics are read by the
 * connections' HTTP stage for each message, so a change applies from the next one (a connection opened
 * while the proxy had none takes its HTTP stage at its next request).
 */
export class ToxicCollection {
  private readonly chains: Record<Direction, Toxic[]> = { upstream: [], downstream: [] };
  private bytes: Record<Direction, ByteToxic[]> = { upstream: [], downstream: [] };
  private http: Record<Direction, HttpToxic[]> = { upstream: [], downstream: [] };

  /** `onHttp` runs after an HTTP toxic is added: the live connections take HTTP stages for their next requests. */
  constructor(
    private readonly links: (direction: Direction) => Iterable<Link>,
    private readonly onHttp: () => void = () => undefined,
  ) {}

  /** Upstream toxics first, then downstream ones, as Toxiproxy lists them. */
  list(): Toxic[] {
    return [...this.chains.upstream, ...this.chains.downstream];
  }

  specs(direction: Direction): readonly ByteToxic[] {
    return this.bytes[direction];
  }

  httpSpecs(direction: Direction): readonly HttpToxic[] {
    return this.http[direction];
  }

  hasHttp(): boolean {
    return this.http.upstream.length > 0 || this.http.downstream.length > 0;
  }

  /** Splits the chains by layer after a change (the lists are replaced, never changed in place). */
  private split(): void {
    for (const d of ["upstream", "downstream"] as const) {
      this.bytes[d] = this.chains[d].filter((t): t is ByteToxic => !isHttp(t));
      this.http[d] = this.chains[d].filter(isHttp);
    }
  }

  /** @throws ApiError 404 when no toxic has that name. */
  get(name: string): Toxic {
    const toxic = this.list().find((t) => t.name === name);
    if (!toxic) throw ErrToxicNotFound;
    return toxic;
  }

  has(name: string): boolean {
    return this.list().some((t) => t.name === name);
  }

  /** @throws ApiError 409 when a toxic of that name exists. */
  add(toxic: Toxic): void {
    if (this.has(toxic.name)) throw ErrToxicAlreadyExists;
    this.chains[toxic.direction].push(toxic);
    this.split();
    if (isHttp(toxic)) this.onHttp();
    else for (const link of this.links(toxic.direction)) link.addToxic(toxic);
  }

  /** @throws ApiError 404 when no toxic has that name. */
  update(name: string, attributes: Toxic["attributes"], toxicity: number): Toxic {
    const old = this.get(name);
    const toxic = { ...old, attributes, toxicity } as Toxic;
    const chain = this.chains[old.direction];
    chain[chain.indexOf(old)] = toxic;
    this.split();
    if (!isHttp(toxic)) for (const link of this.links(toxic.direction)) link.updateToxic(toxic);
    return toxic;
  }

  /** @throws ApiError 404 when no toxic has that name. */
  remove(name: string): void {
    const toxic = this.get(name);
    const chain = this.chains[toxic.direction];
    chain.splice(chain.indexOf(toxic), 1);
    this.split();
    if (!isHttp(toxic)) for (const link of this.links(toxic.direction)) link.removeToxic(name);
  }

  reset(): void {
    for (const toxic of this.list()) this.remove(toxic.name);
  }
}
