import { InputError } from '../core/index.ts';

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
