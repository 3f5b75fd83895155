import { z } from "zod";
import { configSchema } from "./schema.ts";
import { ENV_OVERRIDES } from "./load.ts";

interface Row {
  field: string;
  type: string;
  required: string;
  env: string;
  description: string;
}

// Peels the wrappers zod puts around a field (default, optional, refinements) and keeps what they say.
function unwrap(schema: z.ZodTypeAny): { inner: z.ZodTypeAny; optional: boolean; defaultValue?: unknown; description?: string } {
  let inner = schema;
  let optional = false;
  let defaultValue: unknown;
  let description = schema.description;
  for (;;) {
    description ??= inner.description;
    if (inner instanceof z.ZodDefault) {
      defaultValue = inner._def.defaultValue();
      inner = inner._def.innerType;
    } else if (inner instanceof z.ZodOptional) {
      optional = true;
      inner = inner._def.innerType;
    } else if (inner instanceof z.ZodEffects) {
      inner = inner._def.schema;
    } else break;
  }
  return { inner, optional, defaultValue, description };
}

function typeName(schema: z.ZodTypeAny): string {
  if (schema instanceof z.ZodString) return "string";
  if (schema instanceof z.ZodNumber) return "integer";
  if (schema instanceof z.ZodEnum) return (schema.options as string[]).join(" \\| ");
  if (schema instanceof z.ZodArray) return `${typeName(unwrap(schema.element).inner)}[]`;
  if (schema instanceof z.ZodRecord) return "map";
  if (schema instanceof z.ZodObject) return "object";
  return "value";
}

function collect(schema: z.ZodTypeAny, prefix: string, rows: Row[]): void {
  const { inner, optional, defaultValue, description } = unwrap(schema);
  if (prefix !== "" && !prefix.endsWith("[]")) {
    const env = Object.entries(ENV_OVERRIDES).find(([, o]) => o.path.join(".") === prefix)?.[0] ?? "";
    const isSection = inner instanceof z.ZodObject;
    const required = defaultValue !== undefined && !isSection ? `default ${JSON.stringify(defaultValue)}` : optional || defaultValue !== undefined ? "optional" : "required";
    rows.push({ field: prefix, type: typeName(inner), required, env, description: description ?? "" });
  }
  if (inner instanceof z.ZodObject) {
    for (const [key, child] of Object.entries(inner.shape as Record<string, z.ZodTypeAny>)) {
      collect(child, prefix === "" ? key : `${prefix}.${key}`, rows);
    }
  } else if (inner instanceof z.ZodRecord) {
    collect(inner._def.valueType, `${prefix}.<name>`, rows);
  } else if (inner instanceof z.ZodArray && unwrap(inner.element).inner instanceof z.ZodObject) {
    collect(inner.element, `${prefix}[]`, rows);
  }
}

/** The config reference as a Markdown table, generated from the zod schema (docs/OPERATOR.md embeds it). */
export function configReferenceMarkdown(): string {
  const rows: Row[] = [];
  collect(configSchema, "", rows);
  const lines = ["| field | type | required / default | env override | meaning |", "|---|---|---|---|---|"];
  for (const r of rows) lines.push(`| \`${r.field}\` | ${r.type} | ${r.required} | ${r.env ? `\`${r.env}\`` : ""} | ${r.description} |`);
  return lines.join("\n");
}
