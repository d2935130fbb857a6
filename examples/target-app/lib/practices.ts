/** The resilience practices the sample app shows; each one can be switched off to make the app fragile. */
export const PRACTICES = ["timeouts", "retries", "breaker", "idempotency"] as const;
export type Practice = (typeof PRACTICES)[number];

/** Which practices are on. Resilient by default: every practice is on. */
export type Practices = Record<Practice, boolean>;

/**
 * Parses a FRAGILE list ("timeouts,retries", "all", "" or undefined) into the practices left on.
 * @throws Error naming the known practices when the list holds an unknown one.
 */
export function parseFragile(value: string | readonly string[] | undefined): Practices {
  const items = (typeof value === "string" ? value.split(",") : (value ?? []))
    .map((item) => item.trim().toLowerCase())
    .filter((item) => item !== "" && item !== "none");
  const off = new Set<Practice>();
  for (const item of items) {
    if (item === "all") {
      for (const practice of PRACTICES) off.add(practice);
    } else if ((PRACTICES as readonly string[]).includes(item)) {
      off.add(item as Practice);
    } else {
      throw new Error(`unknown practice "${item}" in FRAGILE; known: ${PRACTICES.join(", ")}, all`);
    }
  }
  return {
    timeouts: !off.has("timeouts"),
    retries: !off.has("retries"),
    breaker: !off.has("breaker"),
    idempotency: !off.has("idempotency"),
  };
}

/** The practices switched off, in canonical order, for logs and FRAGILE env values. */
export function fragileList(practices: Practices): Practice[] {
  return PRACTICES.filter((practice) => !practices[practice]);
}
