// A scripted model for the apps' offline demos: many independent one-turn agents each need their
// own answer, so replies are keyed by text in the prompt, not by turn (as `scripted:` is).
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { errorMessage, InputError, parseInput, type ModelClient, type ModelResult } from '../core/index.ts';
import { createModelClient, type CreateModelOptions } from '../model/index.ts';

export const KeyedScript = z
  .object({
    model: z.string().min(1).default('keyed'),
    /** The first reply whose every `when` text occurs in the last user message answers it. */
    replies: z
      .array(
        z
          .object({
            when: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
            reply: z.string(),
          })
          .strict(),
      )
      .min(1),
  })
  .strict();
export type KeyedScript = z.infer<typeof KeyedScript>;

/** Replays keyed replies; a prompt no reply matches fails loudly (kind `script`) rather than improvising. */
export function createKeyedModel(script: KeyedScript, name: string): ModelClient {
  return {
    specificationVersion: 'v1',
    spec: `keyed:${name}`,
    complete: async (request): Promise<ModelResult> => {
      const prompt = request.messages.findLast((m) => m.role === 'user')?.content ?? '';
      const match = script.replies.find((r) => (Array.isArray(r.when) ? r.when : [r.when]).every((w) => prompt.includes(w)));
      if (!match) {
        const head = prompt.split('\n').find((line) => line.trim())?.slice(0, 120) ?? '';
        return { ok: false, kind: 'script', message: `keyed model ${name}: no reply matches the prompt starting '${head}'`, retryable: false };
      }
      return { ok: true, response: { message: { role: 'assistant', content: match.reply, toolCalls: [] }, finishReason: 'stop', usage: {}, model: script.model } };
    },
  };
}

export async function loadKeyedModel(path: string): Promise<ModelClient> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new InputError(path, `cannot read the keyed script: ${errorMessage(error)}`, 'a YAML file with `replies: [{ when, reply }]`');
  }
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (error) {
    throw new InputError(path, `not valid YAML: ${errorMessage(error)}`);
  }
  return createKeyedModel(parseInput(KeyedScript, value, path), path);
}

/** `keyed:PATH` for the offline demos; any other `--model` spec goes to the model module. */
export async function createAppModel(spec: string, options: CreateModelOptions = {}): Promise<ModelClient> {
  if (spec.startsWith('keyed:')) {
    const path = spec.slice('keyed:'.length);
    if (!path) throw new InputError('--model', 'keyed needs the path of a keyed script', 'keyed:PATH, e.g. keyed:examples/radar/model.yaml');
    return loadKeyedModel(path);
  }
  return createModelClient(spec, options);
}
