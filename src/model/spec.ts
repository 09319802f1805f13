import { InputError, type ModelClient } from '../core/index.ts';
import { createAnthropicMessages } from './anthropic.ts';
import type { Sleep } from './http.ts';
import { createOpenAIChat, MINIMAX_BASE_URL } from './openai-chat.ts';
import { createDestructivePolicy, createNoopPolicy, createOraclePolicy, createPlaceholderPolicy, createRandomPolicy } from './policies.ts';
import { loadScript } from './script.ts';
import { createScriptedModel } from './scripted.ts';
import { checkBaseUrl, credentialIn, redactUrl } from './secrets.ts';

export type ModelSpec =
  | { kind: 'oracle' }
  | { kind: 'random' }
  | { kind: 'placeholder' }
  | { kind: 'noop' }
  | { kind: 'destructive' }
  | { kind: 'scripted'; path: string }
  | { kind: 'openai'; baseUrl: string; model: string }
  | { kind: 'anthropic'; baseUrl: string; model: string }
  | { kind: 'minimax'; model: string };

const WHERE = '--model';
/** Where each HTTP kind's key comes from; never from the spec. */
const KEY_VARS = { openai: 'OPENAI_API_KEY', anthropic: 'ANTHROPIC_API_KEY', minimax: 'MINIMAX_API_KEY' } as const;
/** Every form `--model` takes, for help texts and errors. */
export const MODEL_SPEC_FORMS =
  'oracle | random | placeholder | noop | destructive | scripted:PATH | openai:BASE_URL/v1#MODEL | anthropic:BASE_URL#MODEL | minimax:MODEL';

/** Parses `--model`. Splits at the first ':' only, since URLs and model names contain more. */
export function parseModelSpec(spec: string): ModelSpec {
  const text = spec.trim();
  const colon = text.indexOf(':');
  const kind = colon === -1 ? text : text.slice(0, colon);
  const rest = colon === -1 ? '' : text.slice(colon + 1);
  switch (kind) {
    case 'oracle':
    case 'random':
    case 'placeholder':
    case 'noop':
    case 'destructive':
      if (colon !== -1) throw new InputError(WHERE, `'${kind}' takes no argument, got '${redactSpec(text)}'`, kind);
      return { kind };
    case 'scripted':
      if (!rest) throw new InputError(WHERE, 'scripted needs the path of a script', 'scripted:PATH (a YAML or JSON file)');
      return { kind, path: rest };
    case 'minimax':
      if (!rest) throw new InputError(WHERE, 'minimax needs a model name', 'minimax:MODEL, e.g. minimax:MiniMax-M2');
      return { kind, model: rest };
    case 'openai':
    case 'anthropic':
      return { kind, ...urlAndModel(kind, rest) };
    default:
      throw new InputError(WHERE, `unknown model kind '${kind}' in '${redactSpec(text)}'`, MODEL_SPEC_FORMS);
  }
}

function urlAndModel(kind: 'openai' | 'anthropic', rest: string): { baseUrl: string; model: string } {
  const form = kind === 'openai' ? 'openai:BASE_URL#MODEL with BASE_URL ending in /v1, e.g. openai:http://localhost:8000/v1#Qwen/Qwen3-8B' : 'anthropic:BASE_URL#MODEL with BASE_URL without /v1, e.g. anthropic:https://api.anthropic.com#claude-sonnet-4-5';
  const hash = rest.indexOf('#');
  const baseUrl = (hash === -1 ? rest : rest.slice(0, hash)).replace(/\/+$/, '');
  const model = hash === -1 ? '' : rest.slice(hash + 1);
  if (!baseUrl) throw new InputError(WHERE, `${kind} needs a base URL`, form);
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch (_error) {
    throw new InputError(WHERE, `'${redactUrl(baseUrl)}' is not a URL`, form);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new InputError(WHERE, `'${redactUrl(baseUrl)}' is not an http(s) URL`, form);
  const credential = credentialIn(url);
  if (credential) {
    const envVar = KEY_VARS[kind];
    throw new InputError(WHERE, `the base URL '${redactUrl(baseUrl)}' carries ${credential}; keys must not be part of the spec, which is stored with the run`, `the key in ${envVar} (${envVar}=… gauntlet run --model ${kind}:${redactUrl(baseUrl)}#MODEL)`);
  }
  if (!model) throw new InputError(WHERE, `${kind} needs '#MODEL' after the base URL`, form);
  const endsInV1 = url.pathname.replace(/\/+$/, '').endsWith('/v1');
  if (kind === 'openai' && !endsInV1) throw new InputError(WHERE, `the base URL '${redactUrl(baseUrl)}' must end in /v1`, form);
  if (kind === 'anthropic' && endsInV1) throw new InputError(WHERE, `the base URL '${redactUrl(baseUrl)}' must not end in /v1 (the adapter adds /v1/messages)`, form);
  return { baseUrl, model };
}

/** A spec for messages: URLs lose user info and query strings, where keys tend to hide. */
function redactSpec(text: string): string {
  return text.replace(/[a-z]+:\/\/[^\s#]+/gi, (url) => redactUrl(url));
}

export interface CreateModelOptions {
  fetch?: typeof fetch;
  /** Where API keys are read (OPENAI_API_KEY, ANTHROPIC_API_KEY, MINIMAX_API_KEY); process.env by default. */
  env?: Record<string, string | undefined>;
  /** Overrides the endpoint (MiniMax's default host; a mock server in tests): `--base-url`, checked like a spec's URL. */
  baseUrl?: string;
  /** Per request: silence while streaming, the whole request otherwise; DEFAULT_TIMEOUT_MS (120000) by default. */
  timeoutMs?: number;
  /** SSE streaming for the OpenAI, MiniMax and Anthropic adapters; on by default. */
  stream?: boolean;
  maxRetries?: number;
  sleep?: Sleep;
  /** Seed of the random policy. */
  seed?: number;
}

/** Builds the client a `--model` spec names. Keys come from the environment, never the spec. */
export async function createModelClient(spec: string, options: CreateModelOptions = {}): Promise<ModelClient> {
  const parsed = parseModelSpec(spec);
  const env = options.env ?? process.env;
  const transport = {
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    ...(options.maxRetries !== undefined ? { maxRetries: options.maxRetries } : {}),
    ...(options.sleep ? { sleep: options.sleep } : {}),
    ...(options.stream !== undefined ? { stream: options.stream } : {}),
  };
  const override = (kind: keyof typeof KEY_VARS): string | undefined =>
    options.baseUrl === undefined ? undefined : checkBaseUrl(options.baseUrl, { where: '--base-url', envVar: KEY_VARS[kind] });
  const key = (name: string): { apiKey?: string } => (env[name] ? { apiKey: env[name] } : {});
  switch (parsed.kind) {
    case 'oracle':
      return createOraclePolicy();
    case 'random':
      return createRandomPolicy(options.seed === undefined ? {} : { seed: options.seed });
    case 'placeholder':
      return createPlaceholderPolicy();
    case 'noop':
      return createNoopPolicy();
    case 'destructive':
      return createDestructivePolicy();
    case 'scripted':
      return createScriptedModel(await loadScript(parsed.path), parsed.path);
    case 'openai': {
      const baseURL = override('openai') ?? parsed.baseUrl;
      return createOpenAIChat({ baseURL, model: parsed.model, ...key('OPENAI_API_KEY'), ...transport, spec: `openai:${redactUrl(baseURL)}#${parsed.model}` });
    }
    case 'anthropic': {
      const baseURL = override('anthropic') ?? parsed.baseUrl;
      return createAnthropicMessages({ baseURL, model: parsed.model, ...key('ANTHROPIC_API_KEY'), ...transport, spec: `anthropic:${redactUrl(baseURL)}#${parsed.model}` });
    }
    case 'minimax': {
      const baseURL = override('minimax') ?? MINIMAX_BASE_URL;
      if (!env.MINIMAX_API_KEY && !options.baseUrl) {
        throw new InputError(WHERE, `minimax:${parsed.model} needs MINIMAX_API_KEY in the environment`, 'MINIMAX_API_KEY=… (or a baseUrl override for a local endpoint)');
      }
      return createOpenAIChat({ baseURL, model: parsed.model, flavor: 'minimax', ...key('MINIMAX_API_KEY'), ...transport, spec: `minimax:${parsed.model}` });
    }
  }
}
