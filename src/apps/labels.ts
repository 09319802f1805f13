// Shared by both apps: a label set from a YAML file, the classifier prompt's reply format, and the
// question-set task that checks a labelled case (for `gauntlet run/eval --tasks-file`).
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { errorMessage, InputError, parseInput, type TaskInput } from '../core/index.ts';
import { AgentOutputError } from '../agent/fanout/index.ts';

export async function loadYaml<T>(path: string, schema: z.ZodType<T>, expected: string): Promise<T> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new InputError(path, `cannot read: ${errorMessage(error)}`, expected);
  }
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (error) {
    throw new InputError(path, `not valid YAML: ${errorMessage(error)}`, expected);
  }
  return parseInput(schema, value, path);
}

/**
 * The label in a classifier reply: the last `<field>: <id>` line. A reply without one, or with an
 * id outside `allowed`, is the model's failure (AgentOutputError), never a guess.
 */
export function readLabel(reply: string, options: { field: string; allowed: readonly string[] }): string {
  const pattern = new RegExp(`^\\s*\\**${options.field}\\**\\s*:\\s*\`?([A-Za-z0-9_-]+)\`?\\s*$`, 'gim');
  const found = [...reply.matchAll(pattern)].at(-1)?.[1]?.toLowerCase();
  if (!found) throw new AgentOutputError(`the reply has no '${options.field}: <id>' line: '${reply.slice(0, 200)}'`);
  if (!options.allowed.includes(found)) throw new AgentOutputError(`'${options.field}: ${found}' is not one of ${options.allowed.join(', ')}`);
  return found;
}

/** A qa task asking the classifier's exact question and passing when the reply names `expected`. */
export function labelTask(options: { id: string; domain: string; system: string; prompt: string; field: string; expected: string; labels: string[]; metadata?: Record<string, string> }): TaskInput {
  const field = options.field.toLowerCase();
  return {
    id: options.id,
    env: 'qa',
    systemPrompt: options.system,
    instruction: options.prompt,
    verifier: { checks: [{ check: 'answer_regex', pattern: `^\\s*\\**${field}\\**\\s*:\\s*\`?${options.expected}\`?\\s*$`, flags: 'im', name: `correct ${field}` }] },
    golden: { answer: `${options.field}: ${options.expected}` },
    tags: { domain: options.domain, difficulty: 'easy', labels: options.labels },
    ...(options.metadata ? { metadata: options.metadata } : {}),
  };
}

/** A task id segment from free text. */
export function slug(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 60) || 'item';
}
