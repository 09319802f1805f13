// Judging one probe outcome against its expectation, in the grader's process: `node:assert` and
// the expected values here are the grader's own, loaded from pristine modules the sandboxed code
// never touches.
import assert from 'node:assert/strict';
import { inspect, isDeepStrictEqual } from 'node:util';
import { z } from 'zod';
import type { ProbeCase, ThrowsMatcher } from './suite.ts';
import { decodeValue, WireError } from './wire.ts';

const Thrown = { name: z.string(), message: z.string() };

/** One line of the supervisor's report, as the grader accepts it. */
export const ProbeOutcome = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('returned'), value: z.unknown() }),
  z.object({ kind: z.literal('threw'), ...Thrown }),
  z.object({ kind: z.literal('setup-failed'), ...Thrown }),
  z.object({ kind: z.literal('unserialisable'), message: z.string() }),
  z.object({ kind: z.literal('timeout'), ms: z.number() }),
  z.object({ kind: z.literal('crashed'), message: z.string() }),
]);
export type ProbeOutcome = z.infer<typeof ProbeOutcome>;

const clip = (text: string, max = 160) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

/** A value on one short line, for a failure's detail. */
export function show(value: unknown): string {
  return clip(inspect(value, { depth: 4, breakLength: Infinity, compact: true, maxArrayLength: 12, maxStringLength: 80, sorted: false }), 120);
}

function matches(matcher: ThrowsMatcher, thrown: { name: string; message: string }): boolean {
  const test = (pattern: string | RegExp, value: string) => (typeof pattern === 'string' ? pattern === value : new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, '')).test(value));
  if (matcher instanceof RegExp) return test(matcher, thrown.message);
  if (typeof matcher === 'string') return matcher === thrown.name;
  return (matcher.name === undefined || matcher.name === thrown.name) && (matcher.message === undefined || test(matcher.message, thrown.message));
}

function describeMatcher(matcher: ThrowsMatcher): string {
  if (matcher instanceof RegExp) return `an error matching ${String(matcher)}`;
  if (typeof matcher === 'string') return `a ${matcher}`;
  return [matcher.name ? `a ${matcher.name}` : 'an error', matcher.message !== undefined ? `matching ${String(matcher.message)}` : ''].filter(Boolean).join(' ');
}

/** The first line of a failed assertion, with expected and actual when the assertion had them. */
function assertionSummary(error: unknown): string {
  if (!(error instanceof Error)) return `threw ${show(error)}`;
  const first = error.message.split('\n').find((line) => line.trim() !== '')?.trim() ?? error.name;
  if (error instanceof assert.AssertionError && ['strictEqual', 'deepStrictEqual', 'notStrictEqual', 'match'].includes(error.operator)) {
    return `${first.replace(/:$/, '')}; expected ${show(error.expected)}, got ${show(error.actual)}`;
  }
  return first;
}

/** null when the outcome meets the case's expectation, else why not (one line). */
export function judgeCase(probe: ProbeCase, outcome: ProbeOutcome): string | null {
  const expectation = probe.expectation;
  switch (outcome.kind) {
    case 'setup-failed':
      return `could not load the code under test: ${outcome.name}: ${clip(outcome.message)}`;
    case 'timeout':
      return `did not finish within ${outcome.ms / 1000}s`;
    case 'crashed':
      return `the probe crashed: ${clip(outcome.message)}`;
    case 'unserialisable':
      return `returned a value that cannot be compared: ${clip(outcome.message)}`;
    case 'threw':
      if (expectation.kind !== 'throws') return `threw ${outcome.name}: ${clip(outcome.message)}`;
      return matches(expectation.matcher, outcome) ? null : `threw ${outcome.name}: ${clip(outcome.message)}; expected ${describeMatcher(expectation.matcher)}`;
    case 'returned': {
      let actual: unknown;
      try {
        actual = decodeValue(outcome.value);
      } catch (error) {
        if (error instanceof WireError) return `returned something unreadable (${error.message})`;
        throw error;
      }
      if (expectation.kind === 'throws') return `returned ${show(actual)}; expected it to throw ${describeMatcher(expectation.matcher)}`;
      if (expectation.kind === 'equals') return isDeepStrictEqual(actual, expectation.value) ? null : `expected ${show(expectation.value)}, got ${show(actual)}`;
      try {
        expectation.check(actual, assert);
        return null;
      } catch (error) {
        return assertionSummary(error);
      }
    }
  }
}
