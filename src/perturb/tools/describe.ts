// tools.describe and tools.reorder: the same tools and calls, described or ordered differently.
// Descriptions are rewritten from what the spec itself says (its own sentences, its parameters),
// never with claims the tool does not make.
import { z } from 'zod';
import type { JsonObject, Rng, ToolSpec } from '../../core/index.ts';
import { propertiesOf, requiredOf, typeOf, withProperties } from '../json-schema.ts';
import { sentencesOf } from '../text.ts';
import { definePerturbation } from '../types.ts';
import { specsOnlyLayer } from './layers.ts';

export const DESCRIBE_MODES = ['rewrite', 'shorten', 'lengthen'] as const;
type DescribeMode = (typeof DESCRIBE_MODES)[number];

function lowerFirst(text: string): string {
  // Keep acronyms and names (a second capital or a digit) as they are.
  return /^[A-Z][a-z]/.test(text) ? text.charAt(0).toLowerCase() + text.slice(1) : text;
}

function withoutFinalStop(text: string): string {
  return text.replace(/[.\s]+$/, '');
}

const REWRITES: readonly ((first: string, name: string) => string)[] = [
  (first) => `Use this tool to ${lowerFirst(withoutFinalStop(first))}.`,
  (first) => `Purpose: ${lowerFirst(withoutFinalStop(first))}.`,
  (first, name) => `${name} — ${lowerFirst(withoutFinalStop(first))}.`,
  (first) => `This tool lets you ${lowerFirst(withoutFinalStop(first))}.`,
];

function rewrite(spec: ToolSpec, rng: Rng): string {
  const [first, ...rest] = sentencesOf(spec.description);
  if (first === undefined) return spec.description;
  return [rng.pick(REWRITES)(first, spec.name), ...rest].join(' ');
}

/** The first sentence, at most `words` words (cut with an ellipsis). */
function shorten(description: string, words: number): string {
  const first = sentencesOf(description)[0] ?? '';
  const parts = first.split(' ');
  return parts.length <= words ? first : `${parts.slice(0, words).join(' ')}…`;
}

function typeLabel(schema: JsonObject): string {
  if (Array.isArray(schema.enum)) return `one of ${schema.enum.map((v) => JSON.stringify(v)).join(', ')}`;
  const type = typeOf(schema);
  if (type === 'array' && schema.items && typeof schema.items === 'object' && !Array.isArray(schema.items)) {
    const item = typeOf(schema.items as JsonObject);
    return item ? `list of ${item}s` : 'list';
  }
  return type ?? 'value';
}

/** The description followed by a parameter-by-parameter reference, all read from the schema. */
function lengthen(spec: ToolSpec): string {
  const required = new Set(requiredOf(spec.parameters));
  const lines = propertiesOf(spec.parameters).map(([name, schema]) => {
    const notes = [typeLabel(schema), required.has(name) ? 'required' : 'optional'];
    if (schema.default !== undefined) notes.push(`default ${JSON.stringify(schema.default)}`);
    const about = typeof schema.description === 'string' ? `: ${schema.description}` : '';
    return `- ${name} (${notes.join(', ')})${about}`;
  });
  const reference = lines.length > 0 ? `\n\nParameters:\n${lines.join('\n')}` : '\n\nThis tool takes no parameters.';
  return `${spec.description}${reference}`;
}

function describeTool(spec: ToolSpec, mode: DescribeMode, rng: Rng): ToolSpec {
  switch (mode) {
    case 'rewrite':
      return { ...spec, description: rewrite(spec, rng) };
    case 'lengthen':
      return { ...spec, description: lengthen(spec) };
    case 'shorten': {
      const properties = propertiesOf(spec.parameters).map(([name, schema]): [string, JsonObject] => {
        const { description: _dropped, ...rest } = schema;
        return [name, rest];
      });
      return { ...spec, description: shorten(spec.description, 8), parameters: withProperties(spec.parameters, properties, requiredOf(spec.parameters)) };
    }
  }
}

export const describe = definePerturbation({
  id: 'tools.describe',
  family: 'tools',
  summary: 'rewrites tool descriptions (rewrite), cuts them to a few words without parameter notes (shorten), or adds a parameter reference (lengthen)',
  randomised: (params) => params.mode === 'rewrite',
  params: z.object({ mode: z.enum(DESCRIBE_MODES).default('rewrite') }).strict(),
  supports: (target) => (target.tools.length === 0 ? 'the task offers no tools' : null),
  apply: (target, { rng, params }) => ({ layer: specsOnlyLayer(target.tools.map((t) => describeTool(t, params.mode, rng))) }),
});

export const reorder = definePerturbation({
  id: 'tools.reorder',
  family: 'tools',
  summary: 'shuffles the order of the tools and of each tool’s parameters',
  randomised: () => true,
  params: z.object({}).strict(),
  supports: (target) => (target.tools.length < 2 ? 'the task offers fewer than two tools' : null),
  apply(target, { rng }) {
    const tools = rng.shuffle(target.tools).map((spec) => {
      const properties = rng.shuffle(propertiesOf(spec.parameters));
      return properties.length < 2 ? spec : { ...spec, parameters: withProperties(spec.parameters, properties, requiredOf(spec.parameters)) };
    });
    return { layer: specsOnlyLayer(tools) };
  },
});
