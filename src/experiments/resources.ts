import type { Logger } from "pino";
import type { ResourceScope } from "../contract/agent.js";

/** Resources shared for one run, disposed in reverse order of creation. */
export class RunResources implements ResourceScope {
  private readonly items = new Map<string, Promise<unknown>>();
  private readonly disposers: { key: string; dispose: () => Promise<void> }[] = [];

  constructor(private readonly log: Logger) {}

  use<T>(key: string, create: () => Promise<T>, dispose: (value: T) => Promise<void>): Promise<T> {
    let p = this.items.get(key) as Promise<T> | undefined;
    if (!p) {
      p = create().then((value) => {
        this.disposers.push({ key, dispose: () => dispose(value) });
        return value;
      });
      p.catch(() => this.items.delete(key));
      this.items.set(key, p);
    }
    return p;
  }

  /** Disposes everything; a failure is logged and does not stop the others. */
  async close(): Promise<void> {
    for (const { key, dispose } of this.disposers.reverse()) {
      try {
        await dispose();
      } catch (err) {
        this.log.warn({ resource: key, err: (err as Error).message }, "could not dispose a run resource");
      }
    }
    this.disposers.length = 0;
    this.items.clear();
  }
}
