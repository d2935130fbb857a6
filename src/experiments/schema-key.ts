import { createHash } from "node:crypto";

/** The Ajv options of every schema check, at run time and when schemas are precompiled at build time. */
export const AJV_OPTIONS = { allErrors: true, verbose: true, strict: false } as const;

/** A stable name for a schema: `s` and a hash of its JSON text (a valid export name of the compiled module). */
export function schemaKey(schema: object): string {
  return `s${createHash("sha1").update(JSON.stringify(schema)).digest("hex").slice(0, 20)}`;
}
