/**
 * Remembers the response of each charge by Idempotency-Key. Bounded: the oldest keys are forgotten first,
 * as a real provider forgets keys after a retention period.
 */
export class ChargeStore {
  private readonly byKey = new Map<string, string>();

  constructor(private readonly maxKeys = 20_000) {}

  /** The stored response for this key, if any. Never throws. */
  get(key: string): string | undefined {
    return this.byKey.get(key);
  }

  /** Whether a charge was already made under this key. Never throws. */
  has(key: string): boolean {
    return this.byKey.has(key);
  }

  /** Stores the first response for a key; later ones do not replace it. Never throws. */
  remember(key: string, response: string): void {
    if (this.byKey.has(key)) return;
    this.byKey.set(key, response);
    if (this.byKey.size > this.maxKeys) {
      const oldest = this.byKey.keys().next().value;
      if (oldest !== undefined) this.byKey.delete(oldest);
    }
  }
}
