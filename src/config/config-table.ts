/**
 * README's configuration table, generated from `ConfigSchema` (via `z.toJSONSchema`) and the env-override map
 * so the documentation cannot drift from the code. `scripts/config-table.ts` prints/writes it; a test asserts
 * README holds exactly this text between the markers.
 */
import { z } from 'zod';
import { ConfigSchema } from './schema.js';
import { envVarFor } from './env.js';

export const TABLE_START = '<!-- config-table:start -->';
export const TABLE_END = '<!-- config-table:end -->';

/** One documented key. `defaultValue` is undefined when the key has no default (it is unset unless given). */
export interface ConfigKeyDoc {
  key: string;
  type: string;
  defaultValue: unknown;
  env: string | undefined;
  description: string;
}

interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  enum?: unknown[];
  default?: unknown;
  description?: string;
  minimum?: number;
  maximum?: number;
}

/** Every leaf key of the schema in declaration order (nested objects are flattened to dotted keys). */
export function configKeyDocs(): ConfigKeyDoc[] {
  const root = z.toJSONSchema(ConfigSchema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  const out: ConfigKeyDoc[] = [];
  walk(root, '', out);
  return out;
}

function walk(node: JsonSchema, prefix: string, out: ConfigKeyDoc[]): void {
  for (const [name, child] of Object.entries(node.properties ?? {})) {
    const key = prefix ? `${prefix}.${name}` : name;
    if (child.type === 'object' && child.additionalProperties === false) {
      walk(child, key, out);
      continue;
    }
    out.push({
      key,
      type: typeName(child),
      defaultValue: child.default,
      env: envVarFor(key),
      description: child.description ?? '',
    });
  }
}

function typeName(s: JsonSchema): string {
  if (s.enum) return s.enum.map((v) => JSON.stringify(v)).join(' \\| ');
  if (s.type === 'integer') {
    const max = s.maximum !== undefined && s.maximum < Number.MAX_SAFE_INTEGER ? s.maximum : undefined;
    if (s.minimum !== undefined && max !== undefined) return `integer ${s.minimum}..${max}`;
    if (s.minimum !== undefined) return `integer ≥ ${s.minimum}`;
    return 'integer';
  }
  if (s.type === 'array') return `${s.items ? typeName(s.items) : 'any'}[]`;
  if (s.type === 'object' && s.properties) return `{ ${Object.keys(s.properties).join(', ')} }`;
  if (s.type === 'object') {
    const v = typeof s.additionalProperties === 'object' ? typeName(s.additionalProperties) : 'any';
    return `map of ${v}`;
  }
  return Array.isArray(s.type) ? s.type.join(' \\| ') : (s.type ?? 'any');
}

const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** The Markdown table (header + one row per key), ending with a newline. */
export function renderConfigTable(docs: readonly ConfigKeyDoc[] = configKeyDocs()): string {
  const lines = ['| key | type | default | env | description |', '| --- | --- | --- | --- | --- |'];
  for (const d of docs) {
    const def = d.defaultValue === undefined ? '(unset)' : `\`${cell(JSON.stringify(d.defaultValue))}\``;
    const env = d.env ? `\`${d.env}\`` : '';
    lines.push(`| \`${d.key}\` | ${d.type} | ${def} | ${env} | ${cell(d.description)} |`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * README text with the region between the markers replaced by `table`.
 * @throws Error when either marker is missing or they are out of order.
 */
export function replaceConfigTable(readme: string, table: string): string {
  const a = readme.indexOf(TABLE_START);
  const b = readme.indexOf(TABLE_END);
  if (a < 0 || b < a) throw new Error(`README must contain ${TABLE_START} followed by ${TABLE_END}`);
  return `${readme.slice(0, a + TABLE_START.length)}\n${table}${readme.slice(b)}`;
}

/** The text currently between the markers (what `replaceConfigTable` would overwrite). */
export function extractConfigTable(readme: string): string {
  const a = readme.indexOf(TABLE_START);
  const b = readme.indexOf(TABLE_END);
  if (a < 0 || b < a) throw new Error(`README must contain ${TABLE_START} followed by ${TABLE_END}`);
  return readme.slice(a + TABLE_START.length + 1, b);
}
