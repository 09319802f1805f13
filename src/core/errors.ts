import { z } from 'zod';

/**
 * A problem with something a person wrote (config, task file, CLI flag, HTTP body).
 * `where` names the file/field/flag in the layer's own terms (`environment`, `deadlineMs`,
 * `tasks.yaml:12`); a front end may restate it in its own (`--env`) with `at`.
 * `expected` says what would have been accepted.
 */
export class InputError extends Error {
  readonly where: string;
  readonly problem: string;
  readonly expected: string | undefined;
  constructor(where: string, problem: string, expected?: string) {
    super(`${where}: ${problem}${expected ? ` (expected ${expected})` : ''}`);
    this.name = 'InputError';
    this.where = where;
    this.problem = problem;
    this.expected = expected;
  }

  /** The same error, located in a caller's terms (a config field restated as the flag that set it). */
  at(where: string): InputError {
    return new InputError(where, this.problem, this.expected);
  }
}

/**
 * Bad data found in a store: a damaged row, or one another program wrote. Bad input like any other
 * for a command (it names the row and column), but a reader over HTTP asked nothing wrong: the
 * review API answers it as a store that cannot serve (503), not as a bad request.
 */
export class StoredDataError extends InputError {
  constructor(where: string, problem: string, expected?: string) {
    super(where, problem, expected);
    this.name = 'StoredDataError';
  }

  static from(error: InputError): StoredDataError {
    return error instanceof StoredDataError ? error : new StoredDataError(error.where, error.problem, error.expected);
  }
}

/** Which piece of infrastructure failed. Only these make a rollout `infra_error`. */
export const InfraSource = z.enum(['model', 'environment', 'sandbox', 'judge', 'store', 'user_simulator', 'agent']);
export type InfraSource = z.infer<typeof InfraSource>;

/**
 * Why a rollout has no score. Infrastructure kinds (endpoint, sandbox, watchdog) make it
 * `infra_error`; `defect` (an exception in Gauntlet's or an environment's own code) makes it `error`.
 */
export const FailureKind = z.enum([
  'connection',
  'http',
  'timeout',
  'malformed_response',
  'aborted',
  'script',
  'output_too_large',
  'unusable_output',
  'silent_endpoint',
  'unavailable',
  'watchdog',
  'crash',
  'defect',
]);
export type FailureKind = z.infer<typeof FailureKind>;

/** Whose code a defect is in: Gauntlet's own loop or store, or an environment's tools, seeds and checks. */
export const DefectSource = z.enum(['gauntlet', 'environment']);
export type DefectSource = z.infer<typeof DefectSource>;

/** A rollout's error record: infrastructure (`infra_error`) or a defect (`error`). */
export const ErrorSource = z.union([InfraSource, DefectSource]);
export type ErrorSource = z.infer<typeof ErrorSource>;

/**
 * A failure of infrastructure, not of the model: endpoint down, HTTP 5xx after retries, a request
 * past its timeout, a broken environment. Rollouts that hit one are never scored.
 */
export class InfraError extends Error {
  readonly source: InfraSource;
  readonly kind: FailureKind;
  readonly retryable: boolean;
  readonly detail: Record<string, unknown> | undefined;
  constructor(
    source: InfraSource,
    message: string,
    options: { retryable?: boolean; kind?: FailureKind; detail?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'InfraError';
    this.source = source;
    this.kind = options.kind ?? 'unavailable';
    this.retryable = options.retryable ?? true;
    this.detail = options.detail;
  }
}

/**
 * A bug, not bad luck: an exception in an environment's tool, seed or check, or in Gauntlet's own
 * loop. The rollout becomes `error`: never scored, never retried, listed loudly, exit ≠ 0.
 */
export class DefectError extends Error {
  readonly source: DefectSource;
  constructor(source: DefectSource, message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'DefectError';
    this.source = source;
  }
}

/** A store that cannot be used (unwritable path, corrupt file, full disk); names the path and the problem. */
export class StoreError extends Error {
  readonly path: string;
  readonly problem: 'unusable_path' | 'corrupt' | 'read_only' | 'full' | 'locked' | 'newer_version' | 'io';
  constructor(path: string, problem: StoreError['problem'], message: string, options: { cause?: unknown } = {}) {
    super(`store ${path}: ${message}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'StoreError';
    this.path = path;
    this.problem = problem;
  }
}

/** Turns zod issues into one readable line per problem, each naming the field path. */
/**
 * An issue's message, a field left out said as such: zod words it "Invalid input: expected object,
 * received undefined", which reads as if a value had been given.
 */
export function zodIssueMessage(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_type' && / received undefined$/.test(issue.message)) return `missing (expected ${/^[aeiou]/.test(issue.expected) ? 'an' : 'a'} ${issue.expected})`;
  return issue.message;
}

export function describeZodIssues(issues: readonly z.core.$ZodIssue[], prefix = ''): string {
  return issues
    .map((issue) => {
      const path = [prefix, ...issue.path.map(String)].filter(Boolean).join('.');
      return `${path || '(root)'}: ${zodIssueMessage(issue)}`;
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
  if (error instanceof Error) return error.message;
  // Error-like events and plain objects (a WebSocket's ErrorEvent) carry a message too.
  const message = (error as { message?: unknown } | null)?.message;
  return typeof message === 'string' && message !== '' ? message : String(error);
}
