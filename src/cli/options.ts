import type { FanoutLimits, Pricing } from '../agent/fanout/index.ts';
import { DEFAULT_HTTP_TIMEOUTS, fileErrorCode, InputError, parseInputText, readInputFile } from '../core/index.ts';
import { rejectUnknownKeys } from '../runner/resolve.ts';

/** commander argument parsers that fail with the flag's name and what was expected. */
export function positiveInt(flag: string, range: { max?: number } = {}) {
  return (value: string): number => {
    const n = Number(value);
    const max = range.max ?? Number.MAX_SAFE_INTEGER;
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1 || n > max) {
      throw new InputError(flag, `got "${value}"`, range.max ? `a whole number from 1 to ${range.max}` : 'a positive integer');
    }
    return n;
  };
}

/** `--max-body-memory` in MiB: up to 1 TiB, far past any machine's memory and still a safe integer of bytes. */
export const MAX_BODY_MEMORY_MIB = 1024 * 1024;

/** `--body-timeout`: seconds a request body may take to arrive, from 1 ms up to the request timeout, which would cut it first. */
export function bodyTimeoutSeconds(value: string): number {
  const seconds = Number(value);
  const max = DEFAULT_HTTP_TIMEOUTS.requestTimeoutMs / 1000;
  if (value.trim() === '' || !Number.isFinite(seconds) || seconds < 0.001 || seconds > max) {
    throw new InputError('--body-timeout', `got "${value}"`, `seconds from 0.001 to ${max} (the request timeout)`);
  }
  return seconds;
}

export function nonNegativeInt(flag: string, range: { max?: number } = {}) {
  return (value: string): number => {
    const n = Number(value);
    const max = range.max ?? Number.MAX_SAFE_INTEGER;
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n > max) {
      throw new InputError(flag, `got "${value}"`, range.max ? `a whole number from 0 to ${range.max}` : 'a non-negative integer');
    }
    return n;
  };
}

export function number(flag: string, range?: { min?: number; max?: number }) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || (range?.min !== undefined && n < range.min) || (range?.max !== undefined && n > range.max)) {
      const bounds = range ? ` between ${range.min ?? '-∞'} and ${range.max ?? '∞'}` : '';
      throw new InputError(flag, `got "${value}"`, `a number${bounds}`);
    }
    return n;
  };
}

export function oneOf<T extends string>(flag: string, choices: readonly T[]) {
  return (value: string): T => {
    if (!(choices as readonly string[]).includes(value)) throw new InputError(flag, `got "${value}"`, `one of ${choices.join(', ')}`);
    return value as T;
  };
}

/** Repeatable and comma-separated: `--env mail --env terminal` or `--env mail,terminal`. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, ...value.split(',').map((v) => v.trim()).filter(Boolean)];
}

/**
 * Like `collect`, for names that select what runs (`--env`): an empty name (`--env ''`, `mail,,notes`)
 * or one given twice is refused rather than dropped or doubled, which would silently change what runs.
 */
export function collectNames(flag: string) {
  return (value: string, previous: string[] = []): string[] => {
    const names = value.split(',').map((v) => v.trim());
    if (names.some((name) => name === '')) throw new InputError(flag, `got ${JSON.stringify(value)}, which holds an empty name`, 'NAME, or NAME,NAME,… with no empty parts');
    const repeated = names.find((name, i) => previous.includes(name) || names.indexOf(name) !== i);
    if (repeated !== undefined) throw new InputError(flag, `"${repeated}" is given twice`, 'each name once');
    return [...previous, ...names];
  };
}

export function positiveNumber(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n <= 0) throw new InputError(flag, `got "${value}"`, 'a positive number');
    return n;
  };
}

/** `--price-per-million PROMPT:COMPLETION`: what a million prompt and a million completion tokens cost, in US dollars. */
export function pricePerMillion(flag: string) {
  return (value: string): Pricing => {
    const parts = value.split(':');
    const [prompt, completion] = parts.map((part) => (part.trim() === '' ? NaN : Number(part)));
    if (parts.length !== 2 || !Number.isFinite(prompt) || !Number.isFinite(completion) || prompt! < 0 || completion! < 0) {
      throw new InputError(flag, `got "${value}"`, 'PROMPT:COMPLETION, US dollars per million prompt and per million completion tokens, e.g. 0.30:1.20');
    }
    return { promptPerMillion: prompt!, completionPerMillion: completion! };
  };
}

/** The budget flags the fan-out apps share. */
export interface BudgetFlags {
  maxTokens?: number;
  maxWallMs?: number;
  maxDollars?: number;
  pricePerMillion?: Pricing;
}

/** Limits and pricing from the budget flags; a dollar budget without a price is an error naming the flag. */
export function budgetFromFlags(flags: BudgetFlags): { limits: FanoutLimits; pricing?: Pricing } {
  if (flags.maxDollars !== undefined && !flags.pricePerMillion) {
    throw new InputError('--max-dollars', 'needs a price to count dollars by', '--price-per-million PROMPT:COMPLETION as well (US dollars per million prompt and completion tokens)');
  }
  const limits = { ...(flags.maxTokens ? { tokens: flags.maxTokens } : {}), ...(flags.maxWallMs ? { wallMs: flags.maxWallMs } : {}), ...(flags.maxDollars !== undefined ? { dollars: flags.maxDollars } : {}) };
  return { limits, ...(flags.pricePerMillion ? { pricing: flags.pricePerMillion } : {}) };
}

export const isMapping = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * A run settings file (`gauntlet run --config FILE`) as a mapping of settings. Every key is checked
 * against the settings a run knows before any setting is read, whatever flags come with it: a
 * misspelt `env: mail` is named with its likely meaning, not reported as no environment given.
 * Errors name the file, then the key (`FILE: sampling.temprature`).
 */
export function readRunConfigFile(path: string): Record<string, unknown> {
  const text = readInputFile(path, { cannotOpen: (error) => new InputError(path, `cannot read config (${fileErrorCode(error)})`) });
  const parsed = parseInputText(text, path, { syntax: 'not valid YAML/JSON' }).value;
  if (!isMapping(parsed)) throw new InputError(path, 'not a mapping', 'a YAML/JSON object of run settings');
  try {
    rejectUnknownKeys(parsed);
  } catch (error) {
    throw error instanceof InputError ? error.at(`${path}: ${error.where}`) : error;
  }
  // Flags are merged into these two, so a number or list here would otherwise be spread into {} and vanish.
  for (const key of ['modelOptions', 'sampling']) {
    const value = parsed[key];
    if (value !== undefined && value !== null && !isMapping(value)) {
      throw new InputError(`${path}: ${key}`, `got ${JSON.stringify(value)}`, `a mapping (key: value) of ${key === 'sampling' ? 'sampling settings such as temperature' : 'model options'}`);
    }
  }
  return parsed;
}
