// Builds the model clients a stored run names: the same config always gives the same clients,
// whether the run is new or resumed. Keys come from the environment, never from the config.
import { needsTextCompletion } from '../agent/index.ts';
import { InputError, type ModelClient, type RunConfig } from '../core/index.ts';
import { loadChatTemplate, loadTokenizer } from '../formats/index.ts';
import { createModelClient, createTextCompletionModel, parseModelSpec } from '../model/index.ts';
import { TextToolsOptions } from './resolve.ts';

export interface ModelEnvironment {
  /** Where API keys are read (OPENAI_API_KEY, ANTHROPIC_API_KEY, MINIMAX_API_KEY). */
  env: Record<string, string | undefined>;
  fetch?: typeof fetch;
}

/** The environment variables that may hold API keys: never stored, scrubbed from everything written. */
export const API_KEY_VARIABLES = ['OPENAI_API_KEY', 'ANTHROPIC_API_KEY', 'MINIMAX_API_KEY'] as const;

export function configuredSecrets(env: Record<string, string | undefined>): string[] {
  return API_KEY_VARIABLES.flatMap((name) => (env[name] ? [env[name]] : []));
}

async function textCompletionModel(config: RunConfig, options: ModelEnvironment): Promise<ModelClient> {
  const spec = parseModelSpec(config.model);
  if (spec.kind !== 'openai') throw new InputError('model', `the text-tools scaffold talks to /v1/completions, got "${config.model}"`, 'openai:BASE_URL#MODEL');
  const settings = TextToolsOptions.parse(config.modelOptions);
  const tokenizer = settings.tokenizer ? await loadTokenizer(settings.tokenizer) : undefined;
  if (settings.sendTokenIds && !tokenizer) throw new InputError('modelOptions.sendTokenIds', 'sending token ids needs a tokenizer', 'modelOptions.tokenizer (a tokenizer.json)');
  return createTextCompletionModel({
    baseURL: spec.baseUrl,
    model: spec.model,
    template: await loadChatTemplate(settings.template),
    format: settings.toolFormat,
    sendTokenIds: settings.sendTokenIds,
    spec: `text:${config.model}`,
    ...(tokenizer ? { tokenizer } : {}),
    ...(options.env.OPENAI_API_KEY ? { apiKey: options.env.OPENAI_API_KEY } : {}),
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
}

/** The agent's model client for a resolved config. */
export async function modelFromConfig(config: RunConfig, options: ModelEnvironment): Promise<ModelClient> {
  if (needsTextCompletion(config.scaffold)) return textCompletionModel(config, options);
  const baseUrl = typeof config.modelOptions.baseUrl === 'string' ? config.modelOptions.baseUrl : undefined;
  return createModelClient(config.model, {
    env: options.env,
    seed: config.seed,
    ...(baseUrl ? { baseUrl } : {}),
    ...(config.modelOptions.stream === false ? { stream: false } : {}),
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
}

/** The judge's client, when the config names one (always over chat completions). */
export async function judgeFromConfig(config: RunConfig, options: ModelEnvironment): Promise<ModelClient | undefined> {
  if (!config.judge) return undefined;
  return createModelClient(config.judge, { env: options.env, seed: config.seed, ...(options.fetch ? { fetch: options.fetch } : {}) });
}
