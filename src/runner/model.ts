// Builds the model clients a stored run names: the same config always gives the same clients,
// whether the run is new or resumed. Keys come from the environment, never from the config.
import { needsTextCompletion } from '../agent/index.ts';
import { gatewayBaseUrl, InputError, RECORDED_BY_HEADER, type AttemptIdentity, type ModelClient, type RunConfig } from '../core/index.ts';
import { loadChatTemplate, loadTokenizer } from '../formats/index.ts';
import { createModelClient, createTextCompletionModel, isScrubbed, parseModelSpec } from '../model/index.ts';
import { parseRewardConfig, rewardNeeds } from '../reward/index.ts';
import { TextToolsOptions } from './resolve.ts';

export interface ModelEnvironment {
  /** Where API keys are read (OPENAI_API_KEY, ANTHROPIC_API_KEY, MINIMAX_API_KEY). */
  env: Record<string, string | undefined>;
  fetch?: typeof fetch;
}

/** The environment variables that may hold API keys: never stored, scrubbed from everything written. */
export const API_KEY_VARIABLES = ['OPENAI_API_KEY', 'ANTHROPIC_API_KEY', 'MINIMAX_API_KEY'] as const;

/**
 * Gauntlet's other secrets: a gateway's upstream key, the remote sandbox server's token, a
 * server's bearer token. An upstream or a sandbox server that echoes its credentials (in an error,
 * in command output) would otherwise put them in the store.
 */
export const SECRET_VARIABLES = [...API_KEY_VARIABLES, 'GAUNTLET_UPSTREAM_API_KEY', 'GAUNTLET_SANDBOX_TOKEN', 'GAUNTLET_TOKEN'] as const;

/** The secrets set in `env` that are scrubbed; a placeholder too short to be a key (`EMPTY`) is left alone. */
export function configuredSecrets(env: Record<string, string | undefined>): string[] {
  return SECRET_VARIABLES.flatMap((name) => {
    const value = env[name];
    return isScrubbed(value) ? [value] : [];
  });
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

/** The simulated user's client, when the config names one (always over chat completions). */
export async function userFromConfig(config: RunConfig, options: ModelEnvironment): Promise<ModelClient | undefined> {
  if (!config.user) return undefined;
  return createModelClient(config.user, { env: options.env, seed: config.seed, ...(options.fetch ? { fetch: options.fetch } : {}) });
}

/** The judge's client, when the config names one (always over chat completions). */
export async function judgeFromConfig(config: RunConfig, options: ModelEnvironment): Promise<ModelClient | undefined> {
  if (!config.judge) return undefined;
  return createModelClient(config.judge, { env: options.env, seed: config.seed, ...(options.fetch ? { fetch: options.fetch } : {}) });
}

/** Clients for the judges the reward's rubric terms name themselves, by spec (empty when none does). */
export async function rubricJudgesFromConfig(config: RunConfig, options: ModelEnvironment): Promise<Map<string, ModelClient>> {
  const judges = new Map<string, ModelClient>();
  const rewards = config.reward ? [['reward', config.reward] as const] : Object.entries(config.rewards ?? {}).map(([name, raw]) => [`rewards.${name}`, raw] as const);
  try {
    for (const [where, raw] of rewards) {
      for (const spec of rewardNeeds(parseRewardConfig(raw, where)).judges) {
        if (!judges.has(spec)) judges.set(spec, await createModelClient(spec, { env: options.env, seed: config.seed, ...(options.fetch ? { fetch: options.fetch } : {}) }));
      }
    }
  } catch (error) {
    await Promise.all([...judges.values()].map((j) => j.close?.()));
    throw error;
  }
  return judges;
}

/**
 * A fetch that sends what a client addressed to `baseUrl` through a Gauntlet gateway, on rollout
 * `rolloutId`'s route, and asks the gateway to hand the engine's token ids back (the runner records
 * its calls itself) instead of recording them a second time.
 */
export function routeThroughGateway(route: { baseUrl: string; gateway: string; rolloutId: string }, inner: typeof fetch = globalThis.fetch): typeof fetch {
  const base = route.baseUrl.replace(/\/+$/, '');
  const target = gatewayBaseUrl(route.gateway, route.rolloutId);
  return (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    if (!url.startsWith(`${base}/`)) throw new InputError('gateway', `a request to ${url} is outside the model's base URL ${base}`);
    const routed = `${target}${url.slice(base.length)}`;
    if (input instanceof Request) {
      // A Request carries its own method, body and headers: rebuild it on the new address.
      const request = new Request(routed, new Request(input, init));
      request.headers.set(RECORDED_BY_HEADER, 'client');
      return inner(request);
    }
    const headers = new Headers(init?.headers);
    headers.set(RECORDED_BY_HEADER, 'client');
    return inner(routed, { ...init, headers });
  };
}

/**
 * With `config.gateway`, a model client per attempt whose calls go through the gateway on that
 * rollout's route; otherwise undefined (the run's one client serves every rollout).
 */
export function gatewayModels(config: RunConfig, options: ModelEnvironment): ((identity: AttemptIdentity) => Promise<ModelClient>) | undefined {
  const gateway = config.gateway;
  if (!gateway) return undefined;
  const spec = parseModelSpec(config.model);
  if (spec.kind !== 'openai') throw new InputError('gateway', `only OpenAI-style models record their own calls through the gateway, got "${config.model}"`, 'openai:BASE_URL#MODEL');
  return (identity) => modelFromConfig(config, { ...options, fetch: routeThroughGateway({ baseUrl: spec.baseUrl, gateway, rolloutId: identity.rolloutId }, options.fetch) });
}
