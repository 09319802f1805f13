// tools.rename: the same tools under other names, parameters included. Calls are mapped back, the
// golden solution forward, and the names in the task's text, descriptions and error messages
// follow, so nothing the agent reads still carries an original name.
import { z } from 'zod';
import type { JsonObject, JsonValue, Task, ToolInvocation, ToolOutcome, ToolSpec } from '../../core/index.ts';
import { allowsExtraKeys, propertiesOf, requiredOf, withProperties } from '../json-schema.ts';
import { definePerturbation, type LayerSession, type ToolLayer } from '../types.ts';
import { isIdentifierLike, nameReplacer, RENAME_STYLES, renameAll } from './names.ts';

function invert(map: ReadonlyMap<string, string>): Map<string, string> {
  return new Map([...map].map(([a, b]) => [b, a]));
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Rewrites names in text the environment wrote. Identifier-like names are replaced anywhere; plain
 * words (`reply`, `to`) only where they can only be names: a tool before `:` at the start or after
 * `for `, a parameter at the start of a line before `.`/`:`/`[` (a zod issue path) or in quotes.
 */
function textRewriter(tools: ReadonlyMap<string, string>, params: ReadonlyMap<string, string>): (text: string) => string {
  const all = [...new Set([...tools.keys(), ...params.keys()])].sort((a, b) => b.length - a.length);
  if (all.length === 0) return (text) => text;
  const pattern = new RegExp(`(?<![A-Za-z0-9_])(${all.map(escapeRegExp).join('|')})(?![A-Za-z0-9_])`, 'g');
  return (text) =>
    text.replace(pattern, (found: string, _group: string, offset: number) => {
      const before = text.slice(Math.max(0, offset - 5), offset);
      const after = text.charAt(offset + found.length);
      const lineStart = offset === 0 || text.charAt(offset - 1) === '\n';
      const quoted = before.endsWith('"') && after === '"';
      const tool = tools.get(found);
      if (tool !== undefined && (isIdentifierLike(found) || (after === ':' && (lineStart || before.endsWith('for '))) || quoted)) return tool;
      const param = params.get(found);
      if (param !== undefined && (isIdentifierLike(found) || (lineStart && '.:['.includes(after) && after !== '') || quoted)) return param;
      return found;
    });
}

function mapStrings(value: JsonValue, map: (text: string) => string): JsonValue {
  if (typeof value === 'string') return map(value);
  if (Array.isArray(value)) return value.map((v) => mapStrings(v, map));
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapStrings(v, map)]));
  return value;
}

/** Renames in what a call returned; a structured result is renamed in its data, so it stays structured. */
function renameOutcome(outcome: ToolOutcome, rewrite: (text: string) => string, contentRewrite: (text: string) => string): ToolOutcome {
  if (!outcome.ok) return { ...outcome, error: rewrite(outcome.error) };
  if (outcome.data !== undefined && outcome.content === JSON.stringify(outcome.data)) {
    const data = mapStrings(outcome.data, contentRewrite);
    return { ...outcome, content: JSON.stringify(data), data };
  }
  return { ...outcome, content: contentRewrite(outcome.content) };
}

export interface RenameMaps {
  tools: ReadonlyMap<string, string>;
  params: ReadonlyMap<string, string>;
}

/** The layer for given maps (original → new); exported for tests that pin a mapping. */
export function renameLayer(below: readonly ToolSpec[], maps: RenameMaps): ToolLayer {
  const describe = nameReplacer(new Map([...maps.tools, ...maps.params].filter(([name]) => isIdentifierLike(name))));
  const renameKey = (key: string) => maps.params.get(key) ?? key;
  const tools: ToolSpec[] = below.map((spec) => {
    const properties = propertiesOf(spec.parameters).map(([name, schema]): [string, JsonObject] => [
      renameKey(name),
      typeof schema.description === 'string' ? { ...schema, description: describe(schema.description) } : schema,
    ]);
    return {
      name: maps.tools.get(spec.name) ?? spec.name,
      description: describe(spec.description),
      parameters: withProperties(spec.parameters, properties, requiredOf(spec.parameters).map(renameKey)),
    };
  });
  const toolsBack = invert(maps.tools);
  const paramsBack = invert(maps.params);
  const originalParams = new Set(maps.params.keys());
  const visible = new Map(tools.map((t) => [t.name, { spec: t, keys: new Set(propertiesOf(t.parameters).map(([k]) => k)) }]));
  const rewrite = textRewriter(maps.tools, maps.params);
  const contentRewrite = nameReplacer(new Map([...maps.tools].filter(([name]) => isIdentifierLike(name))));

  const renameArgs = (args: JsonObject, map: (key: string) => string): JsonObject => Object.fromEntries(Object.entries(args).map(([k, v]) => [map(k), v]));
  const session: LayerSession = {
    async call(tool, args, below) {
      const entry = visible.get(tool);
      const original = toolsBack.get(tool) ?? tool;
      if (!entry) return below(original, args);
      const lowered: JsonObject = {};
      for (const [key, value] of Object.entries(args)) {
        if (entry.keys.has(key)) lowered[paramsBack.get(key) ?? key] = value;
        // An unlisted key is dropped, as the environment's own schema would drop it; an original
        // name never slips through to be understood below.
        else if (allowsExtraKeys(entry.spec.parameters) && !originalParams.has(key)) lowered[key] = value;
      }
      return renameOutcome(await below(original, lowered), rewrite, contentRewrite);
    },
  };
  return {
    tools,
    lift: (steps) => steps.map((s): ToolInvocation => ({ tool: maps.tools.get(s.tool) ?? s.tool, arguments: renameArgs(s.arguments, renameKey) })),
    lower: (call) => ({ tool: toolsBack.get(call.tool) ?? call.tool, arguments: renameArgs(call.arguments, (k) => paramsBack.get(k) ?? k) }),
    open: () => session,
  };
}

/** The task with identifier-like names in its instruction and system prompt renamed. */
function renameInText(task: Task, maps: RenameMaps): Task {
  const replace = nameReplacer(new Map([...maps.tools, ...maps.params].filter(([name]) => isIdentifierLike(name))));
  return {
    ...task,
    instruction: replace(task.instruction),
    ...(task.systemPrompt !== undefined ? { systemPrompt: replace(task.systemPrompt) } : {}),
  };
}

export const rename = definePerturbation({
  id: 'tools.rename',
  family: 'tools',
  summary: 'renames every tool and (unless parameters=false) every parameter; calls are mapped back and the golden solution forward',
  randomised: () => true,
  params: z
    .object({
      style: z.enum(RENAME_STYLES).default('synonym'),
      parameters: z.boolean().default(true),
    })
    .strict(),
  supports: (target) => (target.tools.length === 0 ? 'the task offers no tools' : null),
  apply(target, { rng, params }) {
    const tools = renameAll(
      target.tools.map((t) => t.name),
      { style: params.style, rng: rng.fork('tools') },
    );
    const paramNames = [...new Set(target.tools.flatMap((t) => propertiesOf(t.parameters).map(([name]) => name)))];
    // A namespace is a convention for tool names; parameters get synonyms instead.
    const paramStyle = params.style === 'namespace' ? 'synonym' : params.style;
    const maps: RenameMaps = { tools, params: params.parameters ? renameAll(paramNames, { style: paramStyle, rng: rng.fork('params') }) : new Map() };
    return { task: renameInText(target.task, maps), layer: renameLayer(target.tools, maps) };
  },
});
