#!/usr/bin/env node
/**
 * Precompiles every JSON Schema the loader checks (the experiment envelope and each agent's configuration,
 * target and argument schemas) into one ES module of standalone Ajv validators:
 * dist/src/experiments/schema/compiled.js. `chaos validate` then loads plain functions instead of compiling
 * schemas at each start. A schema is found by a hash of its JSON text, so a schema changed without a rebuild
 * simply falls back to compiling at run time. Run by `npm run build`, after tsc.
 */
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const dist = (p) => join(ROOT, "dist", p);
const { Ajv2020 } = await import(join(ROOT, "node_modules/ajv/dist/2020.js"));
const { default: standaloneCode } = await import(join(ROOT, "node_modules/ajv/dist/standalone/index.js"));
const { AJV_OPTIONS, schemaKey } = await import(dist("src/experiments/schema-key.js"));
const { defaultRegistry } = await import(dist("src/agents/index.js"));
const { default: experimentSchema } = await import(dist("src/experiments/schema/experiment.schema.json"), {
  with: { type: "json" },
});

const schemas = [experimentSchema];
for (const agent of defaultRegistry().agents()) {
  if (agent.configuration) schemas.push(agent.configuration);
  for (const action of Object.values(agent.actions)) {
    if (action.target) schemas.push(action.target);
    schemas.push(action.args);
  }
  for (const probe of Object.values(agent.probes)) schemas.push(probe.args);
}

const ajv = new Ajv2020({ ...AJV_OPTIONS, code: { source: true, esm: true } });
const exports = {};
for (const schema of schemas) {
  const key = schemaKey(schema);
  if (exports[key]) continue;
  const { $id: _id, ...rest } = schema;
  ajv.addSchema(rest, key);
  exports[key] = key;
}
const out = dist("src/experiments/schema/compiled.js");
// The generated module loads Ajv's small runtime helpers (ucs2length, equal) with require().
const header =
  'import { createRequire } from "node:module";\nconst require = createRequire(import.meta.url);\n';
// Ajv gathers a sub-schema's errors with `vErrors.concat(...)`, a copy of every error so far at each one: a file
// with thousands of problems took quadratic time. Appending in place keeps validation linear.
const CONCAT = /vErrors = vErrors === null \? (validate\d+)\.errors : vErrors\.concat\(\1\.errors\);/g;
let code = standaloneCode(ajv, exports).replace(/^"use strict";/, "");
const concats = code.match(CONCAT)?.length ?? 0;
code = code.replace(
  CONCAT,
  "if (vErrors === null) vErrors = $1.errors.slice(); else for (const e of $1.errors) vErrors.push(e);",
);
if (code.includes("vErrors.concat("))
  throw new Error("compile-schemas: an error-gathering form it does not know");
writeFileSync(out, header + code);
console.log(
  `${Object.keys(exports).length} schemas precompiled into ${out} (${concats} error appends made linear)`,
);
