import { ErrToxicAlreadyExists, ErrToxicNotFound } from "./api-error.js";
import type { Direction, Link, ToxicSpec } from "./link.js";
import type { Attributes } from "./toxics/toxic.js";

/** A toxic as configured on a proxy. */
export interface Toxic extends ToxicSpec {
  type: string;
  /** The stream as the client spelled it; `direction` is its meaning. */
  stream: string;
  direction: Direction;
}

/** The JSON Toxiproxy answers for a toxic, fields in its order. */
export function toxicJson(t: Toxic): {
  attributes: Attributes;
  name: string;
  type: string;
  stream: string;
  toxicity: number;
} {
  return { attributes: t.attributes, name: t.name, type: t.type, stream: t.stream, toxicity: t.toxicity };
}

/**
 * The toxics of one proxy, per direction in the order they were added. Every change is applied at once to
 * the live connections' links of that direction.
 */
export class ToxicCollection {
  private readonly chains: Record<Direction, Toxic[]> = { upstream: [], downstream: [] };

  constructor(private readonly links: (direction: Direction) => Iterable<Link>) {}

  /** Upstream toxics first, then downstream ones, as Toxiproxy lists them. */
  list(): Toxic[] {
    return [...this.chains.upstream, ...this.chains.downstream];
  }

  specs(direction: Direction): readonly Toxic[] {
    return this.chains[direction];
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
    for (const link of this.links(toxic.direction)) link.addToxic(toxic);
  }

  /** @throws ApiError 404 when no toxic has that name. */
  update(name: string, attributes: Attributes, toxicity: number): Toxic {
    const old = this.get(name);
    const toxic: Toxic = { ...old, attributes, toxicity };
    const chain = this.chains[old.direction];
    chain[chain.indexOf(old)] = toxic;
    for (const link of this.links(toxic.direction)) link.updateToxic(toxic);
    return toxic;
  }

  /** @throws ApiError 404 when no toxic has that name. */
  remove(name: string): void {
    const toxic = this.get(name);
    const chain = this.chains[toxic.direction];
    chain.splice(chain.indexOf(toxic), 1);
    for (const link of this.links(toxic.direction)) link.removeToxic(name);
  }

  reset(): void {
    for (const toxic of this.list()) this.remove(toxic.name);
  }
}
