// A hidden test suite (src/envs/coding/hidden/<folder>/<name>.test.mjs): probes that exercise the
// code under test and return plain values, each paired with what the grader expects of the value.
// The suite module is imported only here, in the grader's process; the sandbox receives nothing
// but the probes' source text, the imports they need and their input data — never an expected
// value — so code under test cannot read, patch or pre-empt the judgement.
import type strictAssert from 'node:assert/strict';
import { isDeepStrictEqual } from 'node:util';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { DefectError, describeZodIssues, errorMessage } from '../../../core/index.ts';
import { HIDDEN_DIR, HIDDEN_REF } from '../files.ts';

type AnyFunction = (...args: never[]) => unknown;
const fn = z.custom<AnyFunction>((value) => typeof value === 'function', 'a function');

/** What a thrown error must look like: a RegExp over its message, its name, or both. */
const ThrowsMatcher = z.union([
  z.instanceof(RegExp),
  z.string().min(1),
  z.strictObject({ name: z.string().min(1).optional(), message: z.union([z.string(), z.instanceof(RegExp)]).optional() }),
]);
export type ThrowsMatcher = z.infer<typeof ThrowsMatcher>;

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;
/** `path/to/file.js` or `path/to/file.js#exportName`, relative to the repo root and inside it. */
function isImportTarget(target: string): boolean {
  const [path = '', exported, ...rest] = target.split('#');
  if (rest.length > 0 || (exported !== undefined && !IDENTIFIER.test(exported))) return false;
  const segments = path.split('/');
  return segments.every((s) => /^[\w@+.-]+$/.test(s) && s !== '.' && s !== '..');
}

const CaseShape = z.strictObject({
  name: z.string().min(1),
  run: fn,
  expect: z.unknown().optional(),
  throws: ThrowsMatcher.optional(),
  check: fn.optional(),
});

const SuiteShape = z.strictObject({
  imports: z.record(z.string(), z.string().refine(isImportTarget, 'a path relative to the repo root, optionally #export')),
  data: z.record(z.string(), z.unknown()).default({}),
  setup: fn.optional(),
  cases: z.array(CaseShape).min(1),
});

export type CheckFunction = (actual: unknown, assert: typeof strictAssert) => void;

export type Expectation =
  | { kind: 'equals'; value: unknown }
  | { kind: 'throws'; matcher: ThrowsMatcher }
  | { kind: 'check'; check: CheckFunction };

export interface ProbeCase {
  name: string;
  /** The probe's source: `(ctx) => value`, evaluated in the sandbox with the suite's imports. */
  runSource: string;
  expectation: Expectation;
}

export interface ProbeSuite {
  ref: string;
  /** ctx name -> `path[#export]` under the work dir. */
  imports: Record<string, string>;
  /** JSON text of the inputs every probe receives as `ctx.data` (a fresh copy each time). */
  dataJson: string;
  /** `(ctx) => helpers`, merged into ctx before each probe. */
  setupSource: string | null;
  cases: ProbeCase[];
}

/** Arrow functions and function expressions only: their source text is what the sandbox evaluates. */
const FUNCTION_EXPRESSION = /^(?:async\s+)?(?:function\b|\(|[A-Za-z_$][\w$]*\s*=>)/;

function functionSource(value: AnyFunction, where: string): string {
  const source = value.toString();
  if (!FUNCTION_EXPRESSION.test(source) || source.includes('[native code]')) {
    throw new Error(`${where} must be an arrow function or a function expression (its source text is sent to the sandbox), not ${JSON.stringify(source.slice(0, 40))}`);
  }
  return source;
}

function expectationOf(raw: Record<string, unknown>, parsed: z.infer<typeof CaseShape>, where: string): Expectation {
  const given = (['expect', 'throws', 'check'] as const).filter((key) => Object.hasOwn(raw, key));
  if (given.length !== 1) throw new Error(`${where}: give exactly one of expect, throws or check (found ${given.length === 0 ? 'none' : given.join(', ')})`);
  if (given[0] === 'throws' && parsed.throws !== undefined) return { kind: 'throws', matcher: parsed.throws };
  if (given[0] === 'check' && parsed.check !== undefined) return { kind: 'check', check: parsed.check as CheckFunction };
  return { kind: 'equals', value: parsed.expect };
}

/** Validates a suite module's default export; throws an Error naming the case and the problem. */
export function parseSuite(ref: string, exported: unknown): ProbeSuite {
  const parsed = SuiteShape.safeParse(exported);
  if (!parsed.success) throw new Error(describeZodIssues(parsed.error.issues, 'default export'));
  const { imports, data, setup, cases } = parsed.data;
  for (const key of Object.keys(imports)) {
    if (!IDENTIFIER.test(key)) throw new Error(`imports.${key}: the name must be an identifier (it becomes a field of the probe's ctx)`);
    if (key === 'data') throw new Error('imports.data: "data" is taken by the suite data');
  }
  const dataJson = JSON.stringify(data);
  if (!isDeepStrictEqual(JSON.parse(dataJson), data)) throw new Error('data must be plain JSON (it is sent to the sandbox as JSON)');
  const names = new Set<string>();
  const raws = (exported as { cases: Record<string, unknown>[] }).cases;
  const out = cases.map((c, i) => {
    const where = `cases.${i} (${JSON.stringify(c.name)})`;
    if (names.has(c.name)) throw new Error(`${where}: the name is used twice`);
    names.add(c.name);
    return { name: c.name, runSource: functionSource(c.run, `${where}: run`), expectation: expectationOf(raws[i] ?? {}, c, where) };
  });
  return { ref, imports, dataJson, setupSource: setup ? functionSource(setup, 'setup') : null, cases: out };
}

const loaded = new Map<string, Promise<ProbeSuite>>();

/** The suite at `<folder>/<name>.test.mjs` under hidden/, imported once per process. */
export function loadSuite(ref: string): Promise<ProbeSuite> {
  let suite = loaded.get(ref);
  if (!suite) {
    suite = importSuite(ref);
    loaded.set(ref, suite);
  }
  return suite;
}

async function importSuite(ref: string): Promise<ProbeSuite> {
  if (!HIDDEN_REF.test(ref)) throw new DefectError('environment', `coding: hidden test ${JSON.stringify(ref)} must look like "<folder>/<name>.test.mjs"`);
  try {
    const module = (await import(pathToFileURL(join(HIDDEN_DIR, ref)).href)) as { default?: unknown };
    return parseSuite(ref, module.default);
  } catch (error) {
    throw new DefectError('environment', `coding: hidden test ${ref}: ${errorMessage(error)}`, { cause: error });
  }
}
