// tools.rename: the same tools under other names, parameters included at every depth (the keys
// of nested objects and array items too; free-form maps keep the caller's keys). Calls are mapped
// back, the golden solution forward, and the names in the task's text, descriptions and error
// messages follow, so nothing the agent reads still carries an original name.
import { z } from 'zod';
import type { JsonObject, JsonValue, Task, ToolInvocation, ToolOutcome, ToolSpec } from '../../core/index.ts';
import { propertiesOf } from '../json-schema.ts';
import { definePerturbation, type LayerSession, type ToolLayer } from '../types.ts';
import { nestedPropertyNames, renameKeys, renameSchema, type KeyMapping, type UnlistedOriginal } from './deep-names.ts';
import { invalidArguments } from './layers.ts';
import { isIdentifierLike, nameReplacer, RENAME_STYLES, renameAll } from './names.ts';

function invert(map: ReadonlyMap<string, string>): Map<string, string> {
  return new Map([...map].map(([a, b]) => [b, a]));
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

// What precedes a nested name in a zod issue path at the start of a line (`blocks.0.`).
const ISSUE_PATH_HEAD = /^[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*\.$/;

/** Whether `offset` starts a line, or a segment of an issue path that starts the line. */
function startsPathSegment(text: string, offset: number): boolean {
  if (offset === 0 || text.charAt(offset - 1) === '\n') return true;
  if (text.charAt(offset - 1) !== '.') return false;
  return ISSUE_PATH_HEAD.test(text.slice(text.lastIndexOf('\n', offset - 1) + 1, offset));
}

/**
 * Rewrites names in text the environment wrote. Identifier-like names are replaced anywhere; plain
 * words (`reply`, `to`) only where they can only be names: a tool before `:` at the start or after
 * `for `, a parameter in a zod issue path at the start of a line (`blocks.0.text:`) before
 * `.`/`:`/`[`, in a list after `one of`, or in quotes.
 */
function textRewriter(tools: ReadonlyMap<string, string>, params: ReadonlyMap<string, string>): (text: string) => string {
  // An empty parameter name would match between any two characters (`""` would read `"_v2"`).
  const all = [...new Set([...tools.keys(), ...params.keys()])].filter(Boolean).sort((a, b) => b.length - a.length);
  if (all.length === 0) return (text) => text;
  const pattern = new RegExp(`(?<![A-Za-z0-9_])(${all.map(escapeRegExp).join('|')})(?![A-Za-z0-9_])`, 'g');
  return (text) => {
    // What follows "one of" up to the line's end is a list of names (`unknown key "x"; expected one
    // of query, folder`): plain words there are parameter names too.
    const lists = [...text.matchAll(/\bone of ([^\n;]+)/g)].map((m) => [m.index + m[0].length - m[1]!.length, m.index + m[0].length] as const);
    const listed = (offset: number) => lists.some(([start, end]) => offset >= start && offset < end);
    return text.replace(pattern, (found: string, _group: string, offset: number) => {
      const listedParam = listed(offset) ? params.get(found) : undefined;
      if (listedParam !== undefined) return listedParam;
      const before = text.slice(Math.max(0, offset - 5), offset);
      const after = text.charAt(offset + found.length);
      const lineStart = offset === 0 || text.charAt(offset - 1) === '\n';
      const quoted = before.endsWith('"') && after === '"';
      const tool = tools.get(found);
      if (tool !== undefined && (isIdentifierLike(found) || (after === ':' && (lineStart || before.endsWith('for '))) || quoted)) return tool;
      const param = params.get(found);
      if (param !== undefined && (isIdentifierLike(found) || ('.:['.includes(after) && after !== '' && startsPathSegment(text, offset)) || quoted)) return param;
      return found;
    });
  };
}

/**
 * One line per object that holds an original name. The key itself is not echoed: the agent sees
 * no original name at all, not even one it guessed; where it was and what is taken there suffice.
 */
function describeUnlisted(unlisted: readonly UnlistedOriginal[]): string[] {
  const byPath = new Map(unlisted.map((u) => [u.path.join('.'), u]));
  return [...byPath].map(([where, { listed }]) => {
    const what = `an argument this tool does not take; expected ${listed.length > 0 ? `one of ${listed.join(', ')}` : 'no keys here'}`;
    return where === '' ? what : `${where}: ${what}`;
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
  const toolsBack = invert(maps.tools);
  const paramsBack = invert(maps.params);
  const originalParams = new Set(maps.params.keys());
  // Up: listed keys take their new names, guided by the schema below; down: back to the originals,
  // guided by the schema shown; an unlisted original name is refused in a live call (dropped from a
  // recorded one), any other unlisted key passed on for the environment to refuse.
  const up: KeyMapping = { rename: (key) => maps.params.get(key) ?? key };
  const isOriginal = (key: string) => originalParams.has(key);
  const down: KeyMapping = { rename: (key) => paramsBack.get(key) ?? key, dropUnlisted: { isOriginal } };
  const originals = new Map(below.map((spec) => [spec.name, spec.parameters]));
  const tools: ToolSpec[] = below.map((spec) => ({
    name: maps.tools.get(spec.name) ?? spec.name,
    description: describe(spec.description),
    parameters: renameSchema(spec.parameters, up.rename, describe, (value, schema) => renameKeys(value, schema, spec.parameters, up)),
  }));
  const visible = new Map(tools.map((t) => [t.name, t.parameters]));
  const rewrite = textRewriter(maps.tools, maps.params);
  const contentRewrite = nameReplacer(new Map([...maps.tools].filter(([name]) => isIdentifierLike(name))));

  /** A call in this layer's terms, in the terms below (the same call when the tool is not one of ours). */
  const lowerCall = (tool: string, args: JsonObject, found?: (unlisted: UnlistedOriginal) => void): ToolInvocation => {
    const parameters = visible.get(tool);
    const original = toolsBack.get(tool) ?? tool;
    const mapping: KeyMapping = found ? { ...down, dropUnlisted: { isOriginal, found } } : down;
    return { tool: original, arguments: parameters ? (renameKeys(args, parameters, parameters, mapping) as JsonObject) : args };
  };
  const session: LayerSession = {
    async call(tool, args, below) {
      const unlisted: UnlistedOriginal[] = [];
      const lowered = lowerCall(tool, args, (u) => unlisted.push(u));
      if (!visible.has(tool)) return below(lowered.tool, lowered.arguments);
      // An original name is not an argument of the tool shown: run without it, the call would look
      // done with that argument ignored; passed on, the environment would take it. Refused, as the
      // environment refuses a misspelt key, in the names the agent was shown.
      if (unlisted.length > 0) return invalidArguments(`invalid arguments for ${tool}:\n${describeUnlisted(unlisted).join('\n')}`);
      return renameOutcome(await below(lowered.tool, lowered.arguments), rewrite, contentRewrite);
    },
  };
  const liftStep = (step: ToolInvocation): ToolInvocation => {
    const parameters = originals.get(step.tool);
    return { tool: maps.tools.get(step.tool) ?? step.tool, arguments: parameters ? (renameKeys(step.arguments, parameters, parameters, up) as JsonObject) : step.arguments };
  };
  return {
    tools,
    lift: (steps) => steps.map(liftStep),
    // As the call went below, so checks that read the transcript judge what the environment got.
    lower: (call) => lowerCall(call.tool, call.arguments),
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
  summary: 'renames every tool and (unless parameters=false) every parameter, nested ones included; calls are mapped back and the golden solution forward',
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
    // Direct parameters first, then the names nested in them, so nested names add draws after the
    // direct ones rather than among them; no new name takes an original one, at any depth.
    const paramNames = new Set(target.tools.flatMap((t) => propertiesOf(t.parameters).map(([name]) => name)));
    for (const t of target.tools) nestedPropertyNames(t.parameters, paramNames);
    // A namespace is a convention for tool names; parameters get synonyms instead.
    const paramStyle = params.style === 'namespace' ? 'synonym' : params.style;
    const maps: RenameMaps = { tools, params: params.parameters ? renameAll([...paramNames], { style: paramStyle, rng: rng.fork('params'), kind: 'parameter' }) : new Map() };
    return { task: renameInText(target.task, maps), layer: renameLayer(target.tools, maps) };
  },
});
