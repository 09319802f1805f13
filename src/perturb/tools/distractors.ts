// tools.distractors: working tools the task does not need, beside the ones it does. Each one
// really does what it says (arithmetic, unit conversion, the world's clock, word counts) or, for a
// retired twin of a real tool, says it is retired; none touches the environment's state.
import { z } from 'zod';
import type { JsonObject, ToolOutcome, ToolSpec } from '../../core/index.ts';
import { propertiesOf } from '../json-schema.ts';
import { definePerturbation, type LayerEpisode, type LayerSession, type ToolLayer } from '../types.ts';
import { evaluateArithmetic } from './arithmetic.ts';
import { invalidArguments } from './layers.ts';

interface Distractor {
  spec: ToolSpec;
  run(args: JsonObject, episode: LayerEpisode): ToolOutcome;
}

function ok(data: JsonObject): ToolOutcome {
  return { ok: true, content: JSON.stringify(data), data };
}

function toolError(error: string): ToolOutcome {
  return { ok: false, kind: 'tool_error', error };
}

function text(args: JsonObject, key: string): string | null {
  const value = args[key];
  return typeof value === 'string' ? value : null;
}

// Factors to a base unit per dimension; temperatures convert through kelvin below.
const UNITS: Record<string, { dimension: string; factor: number }> = {
  mm: { dimension: 'length', factor: 0.001 },
  cm: { dimension: 'length', factor: 0.01 },
  m: { dimension: 'length', factor: 1 },
  km: { dimension: 'length', factor: 1000 },
  in: { dimension: 'length', factor: 0.0254 },
  ft: { dimension: 'length', factor: 0.3048 },
  mi: { dimension: 'length', factor: 1609.344 },
  g: { dimension: 'mass', factor: 0.001 },
  kg: { dimension: 'mass', factor: 1 },
  lb: { dimension: 'mass', factor: 0.45359237 },
  oz: { dimension: 'mass', factor: 0.028349523125 },
  s: { dimension: 'time', factor: 1 },
  min: { dimension: 'time', factor: 60 },
  h: { dimension: 'time', factor: 3600 },
  d: { dimension: 'time', factor: 86400 },
};
const TEMPERATURES: Record<string, { toK(v: number): number; fromK(v: number): number }> = {
  C: { toK: (v) => v + 273.15, fromK: (v) => v - 273.15 },
  F: { toK: (v) => ((v - 32) * 5) / 9 + 273.15, fromK: (v) => ((v - 273.15) * 9) / 5 + 32 },
  K: { toK: (v) => v, fromK: (v) => v },
};

/** The table's own entry for a unit name: a model may send `constructor` or `toString`, which are Object's, not units. */
function own<T>(table: Record<string, T>, name: string): T | undefined {
  return Object.hasOwn(table, name) ? table[name] : undefined;
}

function convert(value: number, from: string, to: string): number | string {
  const tf = own(TEMPERATURES, from);
  const tt = own(TEMPERATURES, to);
  if (tf && tt) return tt.fromK(tf.toK(value));
  const uf = own(UNITS, from);
  const ut = own(UNITS, to);
  if (!uf || !ut) return `unknown unit "${!uf ? from : to}"; known: ${[...Object.keys(UNITS), ...Object.keys(TEMPERATURES)].join(', ')}`;
  if (uf.dimension !== ut.dimension) return `cannot convert ${uf.dimension} (${from}) to ${ut.dimension} (${to})`;
  return (value * uf.factor) / ut.factor;
}

const round = (n: number) => Math.round(n * 1e9) / 1e9;

const GENERIC: readonly Distractor[] = [
  {
    spec: {
      name: 'calculate',
      description: 'Evaluate an arithmetic expression with + - * / % and parentheses.',
      parameters: { type: 'object', properties: { expression: { type: 'string', description: 'e.g. (12.5 + 3) * 4' } }, required: ['expression'] },
    },
    run(args) {
      const expression = text(args, 'expression');
      if (expression === null) return invalidArguments('invalid arguments for calculate: "expression" must be a string');
      const result = evaluateArithmetic(expression);
      if (typeof result !== 'number') return toolError(`calculate: ${result}`);
      // JSON has no Infinity: the result would read as null, a wrong answer given as a right one.
      return Number.isFinite(result) ? ok({ expression, result: round(result) }) : toolError('calculate: the result is too large to represent');
    },
  },
  {
    spec: {
      name: 'convert_units',
      description: 'Convert a quantity between units of length, mass, time or temperature.',
      parameters: {
        type: 'object',
        properties: {
          value: { type: 'number' },
          from: { type: 'string', description: 'mm, cm, m, km, in, ft, mi, g, kg, lb, oz, s, min, h, d, C, F or K' },
          to: { type: 'string' },
        },
        required: ['value', 'from', 'to'],
      },
    },
    run(args) {
      const from = text(args, 'from');
      const to = text(args, 'to');
      if (typeof args.value !== 'number' || from === null || to === null) return invalidArguments('invalid arguments for convert_units: expected a number "value" and unit names "from" and "to"');
      const result = convert(args.value, from, to);
      if (typeof result !== 'number') return toolError(`convert_units: ${result}`);
      return Number.isFinite(result) ? ok({ value: args.value, from, to, result: round(result) }) : toolError('convert_units: the result is too large to represent');
    },
  },
  {
    spec: {
      name: 'current_time',
      description: 'The current date and time, in a given IANA time zone (default UTC).',
      parameters: { type: 'object', properties: { time_zone: { type: 'string', description: 'e.g. Europe/Berlin' } } },
    },
    // Reads the world's seeded clock (built-in environments' clocks do not move on reading).
    run(args, episode) {
      const zone = text(args, 'time_zone') ?? 'UTC';
      try {
        const local = new Intl.DateTimeFormat('en-GB', { timeZone: zone, dateStyle: 'full', timeStyle: 'long' }).format(episode.clock.now());
        return ok({ time_zone: zone, now: local });
      } catch (_error) {
        return toolError(`current_time: unknown time zone "${zone}"`);
      }
    },
  },
  {
    spec: {
      name: 'count_words',
      description: 'Count the words, lines and characters of a text.',
      parameters: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] },
    },
    run(args) {
      const value = text(args, 'text');
      if (value === null) return invalidArguments('invalid arguments for count_words: "text" must be a string');
      return ok({ words: value.split(/\s+/).filter(Boolean).length, lines: value === '' ? 0 : value.split('\n').length, characters: [...value].length });
    },
  },
];

/** A retired twin of a real tool: same description, marked retired, and it says which tool replaced it. */
function retiredTwin(real: ToolSpec, name: string): Distractor {
  return {
    spec: { name, description: `(Retired — use ${real.name}.) ${real.description}`, parameters: real.parameters },
    run: () => toolError(`${name} was retired; use ${real.name} instead`),
  };
}

/** The layer offering the distractors after the real tools; exported for tests. */
export function distractorLayer(below: readonly ToolSpec[], distractors: readonly Distractor[]): ToolLayer {
  const own = new Map(distractors.map((d) => [d.spec.name, d]));
  const session: LayerSession = {
    async call(tool, args, callBelow, episode) {
      const distractor = own.get(tool);
      return distractor ? distractor.run(args, episode) : callBelow(tool, args);
    },
  };
  return { tools: [...below, ...distractors.map((d) => d.spec)], lift: (steps) => [...steps], lower: (call) => call, open: () => session };
}

export const distractors = definePerturbation({
  id: 'tools.distractors',
  family: 'tools',
  summary: 'adds working tools the task does not need (calculator, unit conversion, clock, word count) and retired twins of real tools',
  randomised: () => true,
  params: z.object({ count: z.number().int().min(1).max(12).default(4) }).strict(),
  supports: (target) => (target.tools.length === 0 ? 'a text-only task has no tools to hide distractors among' : null),
  apply(target, { rng, params }) {
    const taken = new Set(target.tools.map((t) => t.name));
    const retired = target.retired ?? new Set<string>();
    // A distractor named like a renamed-away tool or parameter (`time_zone`) would show the original name again.
    const shows = (spec: ToolSpec) => retired.has(spec.name) || propertiesOf(spec.parameters).some(([name]) => retired.has(name));
    const pool: Distractor[] = GENERIC.filter((d) => !taken.has(d.spec.name) && !shows(d.spec));
    for (const real of target.tools) {
      const name = [`${real.name}_legacy`, `${real.name}_v1`].find((n) => n.length <= 64 && !taken.has(n) && !retired.has(n));
      if (name) pool.push(retiredTwin(real, name));
    }
    const chosen = rng.shuffle(pool).slice(0, params.count);
    return { layer: distractorLayer(target.tools, chosen) };
  },
});
