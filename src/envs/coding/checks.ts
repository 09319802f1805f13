// Verifier checks: hidden tests run after the episode (the outcome), and the repo's files outside
// the allowed set keep their bytes (the invariant that catches "delete or rewrite the tests").
import { z } from 'zod';
import { InfraError, type Sandbox } from '../../core/index.ts';
import { defineCheck, type CheckDefinition, type CheckOutput } from '../define.ts';
import { filesUnchangedExcept } from '../sandbox-files.ts';
import { HIDDEN_REF } from './files.ts';
import { describeRun, runHiddenTests } from './hidden.ts';

const name = z.string().optional();
const fail = (detail: string): CheckOutput => ({ passed: false, detail });

export const CODING_SANDBOX_MESSAGE = 'the coding environment needs the bwrap sandbox (apt-get install bubblewrap)';

/** Tests need a real process sandbox: the virtual shell cannot run node, so never pretend. */
export function requireBwrap(sandbox: Sandbox | undefined): Sandbox {
  if (!sandbox || sandbox.backend !== 'bwrap') throw new InfraError('sandbox', CODING_SANDBOX_MESSAGE, { retryable: false });
  return sandbox;
}

export const HiddenTestsParams = z.object({
  files: z
    .array(z.string().regex(HIDDEN_REF, '"<folder>/<name>.test.mjs" under src/envs/coding/hidden'))
    .min(1)
    .refine((refs) => new Set(refs.map((r) => r.split('/').pop())).size === refs.length, 'hidden test file names must differ (they share one folder)'),
  /** The repo's own test files, run in the same process; they must pass too. */
  visible: z.array(z.string().min(1)).default([]),
  timeoutMs: z.number().int().positive().max(120_000).default(60_000),
  name,
});

export const codingChecks: Record<string, CheckDefinition> = {
  hidden_tests: defineCheck({
    kind: 'outcome',
    description:
      'Hidden test files (never shown to the agent) are copied into a fresh folder after the episode and run with `node --test` together with the listed visible tests; every declared hidden test must report ok and nothing may fail.',
    params: HiddenTestsParams,
    run: async ({ files, visible, timeoutMs }, { sandbox, signal }) => {
      const run = await runHiddenTests(requireBwrap(sandbox), { hidden: files, visible, timeoutMs, signal });
      return run.passed ? { passed: true, detail: describeRun(run) } : fail(describeRun(run));
    },
  }),

  files_unchanged_except: defineCheck({
    kind: 'invariant',
    description:
      'Every file not matched by `except` (globs) keeps its exact bytes; new files may appear only where `allowNew` matches (default: anywhere).',
    params: z.object({ except: z.array(z.string()).default([]), allowNew: z.array(z.string()).default(['**']), name }),
    run: ({ except, allowNew }, { initial, final }) => filesUnchangedExcept(initial, final, { except, allowNew }),
  }),
};
