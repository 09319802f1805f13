// Verifier checks: hidden tests judged after the episode (the outcome), and the repo's files outside
// the allowed set keep their bytes (the invariant that catches "delete or rewrite the tests").
import { z } from 'zod';
import { InfraError, type Sandbox } from '../../core/index.ts';
import { isProcessSandbox } from '../../sandbox/index.ts';
import { defineCheck, type CheckDefinition, type CheckOutput } from '../define.ts';
import { filesUnchangedExcept } from '../sandbox-files.ts';
import { HIDDEN_REF } from './files.ts';
import { describeRun, runProbes } from './grader/run.ts';
import { loadSuite } from './grader/suite.ts';

const name = z.string().optional();
const fail = (detail: string): CheckOutput => ({ passed: false, detail });

export const CODING_SANDBOX_MESSAGE = 'the coding environment needs a process sandbox: bwrap (apt-get install bubblewrap), or k8s with node in the image';

/** Tests need a real process sandbox: the virtual shell cannot run node, so never pretend. */
export function requireProcessSandbox(sandbox: Sandbox | undefined): Sandbox {
  if (!isProcessSandbox(sandbox)) throw new InfraError('sandbox', CODING_SANDBOX_MESSAGE, { retryable: false });
  return sandbox;
}

export const HiddenTestsParams = z.object({
  /** Probe suites under src/envs/coding/hidden (the repo's own tests are ported there as well). */
  files: z
    .array(z.string().regex(HIDDEN_REF, '"<folder>/<name>.test.mjs" under src/envs/coding/hidden'))
    .min(1)
    .refine((refs) => new Set(refs).size === refs.length, 'each suite may be listed once'),
  timeoutMs: z.number().int().positive().max(120_000).default(60_000),
  probeTimeoutMs: z.number().int().positive().max(60_000).default(10_000),
  name,
});

export const codingChecks: Record<string, CheckDefinition> = {
  hidden_tests: defineCheck({
    kind: 'outcome',
    description:
      'Hidden probe suites (never shown to the agent) judged after the episode: each probe runs the code under test in a sandboxed worker and returns plain values; the expected values and assertions stay in the grader, outside the sandbox. Every case must pass.',
    params: HiddenTestsParams,
    run: async ({ files, timeoutMs, probeTimeoutMs }, { sandbox, signal }) => {
      const box = requireProcessSandbox(sandbox);
      const suites = await Promise.all(files.map((ref) => loadSuite(ref)));
      const run = await runProbes(box, { suites, timeoutMs, probeTimeoutMs, signal });
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
