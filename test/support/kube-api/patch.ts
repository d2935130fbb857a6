import type { Json } from "./store.js";

/** RFC 7386 merge patch: objects merge, `null` removes a key, anything else replaces. */
export function mergePatch(target: Json, patch: Json): Json {
  if (patch === null || typeof patch !== "object" || Array.isArray(patch)) return patch;
  const out: Json = target && typeof target === "object" && !Array.isArray(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

/**
 * RFC 6902 JSON patch for the operations clients send to these objects (add, replace, remove, test).
 * @throws Error naming the operation that cannot be applied (the server answers 422).
 */
export function jsonPatch(target: Json, ops: Json[]): Json {
  const doc = structuredClone(target);
  for (const op of ops) {
    const path = String(op.path ?? "")
      .split("/")
      .slice(1)
      .map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"));
    const last = path.pop();
    if (last === undefined) throw new Error(`invalid path "${op.path}"`);
    let parent = doc;
    for (const p of path) {
      if (parent[p] === undefined) throw new Error(`path "${op.path}" does not exist`);
      parent = parent[p];
    }
    if (op.op === "add" || op.op === "replace") parent[last] = op.value;
    else if (op.op === "remove") delete parent[last];
    else if (op.op === "test") {
      if (JSON.stringify(parent[last]) !== JSON.stringify(op.value))
        throw new Error(`test failed at "${op.path}"`);
    } else throw new Error(`unsupported operation "${op.op}"`);
  }
  return doc;
}
