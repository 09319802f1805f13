import type { z } from 'zod';

/**
 * A problem with something a person wrote (config, task file, CLI flag, HTTP body).
 * `where` names the file/field/flag; `expected` says what would have been accepted.
 */
export class InputError extends Error {
  readonly where: string;
  readonly expected: string | undefined;
  constructor(where: string, message: string, expected?: string) {
    super(`${where}: ${message}${expected ? ` (expected ${expected})` : ''}`);
    this.name = 'InputError';
    this.where = where;
    this.expected = expected;
  }
}

/** Which piece of infrastructure failed. Only these make a rollout `infra_error`. */
export type InfraSource = 'model' | 'environment' | 'sandbox';

/**
 * A failure of infrastructure, not of the model: endpoint down, HTTP 5xx after retries, a request
 * past its timeout, a broken environment. Rollouts that hit one are never scored.
 */
export class InfraError extends Error {
  readonly source: InfraSource;
  readonly retryable: boolean;
  readonly detail: Record<string, unknown> | undefined;
  constructor(source: InfraSource, message: string, options: { retryable?: boolean; detail?: Record<string, unknown>; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'InfraError';
    this.source = source;
    this.retryable = options.retryable ?? true;
    this.detail = options.detail;
  }
}

/** Turns zod issues into one readable line per problem, each naming the field path. */
export function describeZodIssues(issues: readonly z.core.$ZodIssue[], prefix = ''): string {
  return issues
    .map((issue) => {
      const path = [prefix, ...issue.path.map(String)].filter(Boolean).join('.');
      return `${path || '(root)'}: ${issue.message}`;
    })
    .join('\n');
}

/** Parses `value` with `schema`, throwing an InputError that names `where` and every bad field. */
export function parseInput<T>(schema: z.ZodType<T>, value: unknown, where: string): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new InputError(where, `invalid content\n${describeZodIssues(result.error.issues)}`);
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
