// The `harbor_tests` check: grades an imported Harbor / Terminal-Bench task the way its harness
// would, offline. The test files reach the sandbox only now, after the episode, in a hidden folder.
import { posix } from 'node:path';
import { z } from 'zod';
import { DefectError, InfraError, type Sandbox } from '../../core/index.ts';
import { isProcessSandbox } from '../../sandbox/index.ts';
import { defineCheck, type CheckDefinition, type CheckOutput } from '../define.ts';
import { ranInSandbox } from '../sandbox-failure.ts';
import { RUNNER_VARIABLE } from './adapt-script.ts';
import { withAliases } from './image.ts';
import { gradingMapping, HIDDEN_DIR, mapPaths } from './paths.ts';
import { PYTHON_RUNNER } from './pyrunner.ts';
import { passes, PassRule, readRewards, type Rewards } from './rewards.ts';

export const HarborTestsParams = z.object({
  name: z.string().optional(),
  /**
   * How the task was written: Harbor tests must write a reward file; Terminal-Bench 1 tests pass by
   * exit status. Tasks imported before this field existed tell by their script's name.
   */
  layout: z.enum(['harbor', 'terminal-bench-1']).optional(),
  /** The image's WORKDIR; when the sandbox mounts its work dir elsewhere, its paths are mapped there. */
  containerWorkdir: z.string().startsWith('/'),
  /** Where the harness put the tests in the container (`/tests`); mapped into the hidden folder. */
  testsDir: z.string().startsWith('/').default('/tests'),
  /** Image files outside the WORKDIR: container path → where they were placed, relative to the work dir. */
  imagePaths: z.record(z.string(), z.string()).default({}),
  /** The tests folder's text files (relative path → text), with the test script already adapted. */
  files: z.record(z.string(), z.string()),
  /** The tests folder's other files, as base64. */
  binaryFiles: z.record(z.string(), z.string()).default({}),
  /** Files of the tests folder with the executable bit. */
  executables: z.array(z.string()).default([]),
  /** The script to run, a key of `files`. */
  script: z.string().min(1),
  timeoutMs: z.number().int().positive().default(600_000),
  /** The verifier's env from task.toml. */
  env: z.record(z.string(), z.string()).default({}),
  /** The image's ENV, which the tests see too. */
  imageEnv: z.record(z.string(), z.string()).default({}),
  aliases: z.record(z.string(), z.string()).default({}),
  passRule: PassRule.default({ require: [], min: {}, default: 1 }),
});
export type HarborTestsParams = z.infer<typeof HarborTestsParams>;

export type HarborTestsOutput = CheckOutput & { rewards?: Rewards };

const FAILURE_LINE = /^(FAILED|ERROR) (\S+)(?: - (.*))?$/;

/** Failing test ids (and reasons) from pytest's `-rA` summary or the built-in runner's output. */
export function failingTests(output: string, prefixes: string[]): string[] {
  const failures = new Set<string>();
  for (const line of output.split('\n')) {
    const match = FAILURE_LINE.exec(line.trim());
    if (!match) continue;
    let id = match[2]!;
    for (const prefix of prefixes) if (id.startsWith(prefix)) id = id.slice(prefix.length);
    failures.add(match[3] ? `${id} (${match[3].slice(0, 200)})` : id);
  }
  return [...failures];
}

async function sh(sandbox: Sandbox, command: string, options: { stdin?: string; env?: Record<string, string> } = {}): Promise<void> {
  const result = ranInSandbox(await sandbox.exec(command, { timeoutMs: 30_000, ...options }), 'verifier');
  if (result.exitCode !== 0) throw new InfraError('sandbox', `harbor_tests: \`${command}\` failed: ${result.stderr.trim().slice(0, 300)}`);
}

function listRewards(rewards: Rewards): string {
  return Object.entries(rewards)
    .map(([key, value]) => `${key}=${value}`)
    .join(', ');
}

async function placeTests(sandbox: Sandbox, params: HarborTestsParams, testsDir: string, mapping: ReturnType<typeof gradingMapping>): Promise<void> {
  for (const [path, content] of Object.entries(params.files)) await sandbox.writeFile(posix.join(testsDir, path), mapPaths(content, mapping));
  for (const [path, base64] of Object.entries(params.binaryFiles)) {
    const target = posix.join(testsDir, path);
    await sh(sandbox, 'mkdir -p -- "$(dirname -- "$GAUNTLET_FILE")" && base64 -d > "$GAUNTLET_FILE"', { stdin: base64, env: { GAUNTLET_FILE: target } });
  }
  if (params.executables.length > 0) await sh(sandbox, `chmod +x -- ${params.executables.map((p) => JSON.stringify(posix.join(testsDir, p))).join(' ')}`);
}

export async function runHarborTests(params: HarborTestsParams, sandbox: Sandbox, context: { taskId: string; signal?: AbortSignal }): Promise<HarborTestsOutput> {
  const workdir = sandbox.workdir;
  const hidden = posix.join(workdir, HIDDEN_DIR);
  const testsDir = posix.join(hidden, 'tests');
  const logs = posix.join(hidden, 'logs', 'verifier');
  const mapping = gradingMapping({ containerWorkdir: params.containerWorkdir, testsDir: params.testsDir, workdir, imagePaths: params.imagePaths });
  // Anything the agent left at these paths (a planted reward file) is removed first.
  await sh(sandbox, `rm -rf ${HIDDEN_DIR} && mkdir -p ${HIDDEN_DIR}/logs/verifier ${HIDDEN_DIR}/logs/agent ${HIDDEN_DIR}/tests`);
  try {
    await placeTests(sandbox, params, testsDir, mapping);
    const runner = posix.join(hidden, 'gauntlet_runner.py');
    await sandbox.writeFile(runner, PYTHON_RUNNER);
    const command = withAliases(`bash ${JSON.stringify(posix.join(testsDir, params.script))}`, params.aliases);
    const result = ranInSandbox(
      await sandbox.exec(command, {
        timeoutMs: params.timeoutMs,
        cwd: workdir,
        ...(context.signal ? { signal: context.signal } : {}),
        env: { ...params.imageEnv, ...params.env, TEST_DIR: testsDir, [RUNNER_VARIABLE]: runner, PYTHONDONTWRITEBYTECODE: '1' },
      }),
      'verifier',
    );
    const output = `${result.stdout}\n${result.stderr}`;
    const failures = failingTests(output, [`${testsDir}/`, `${HIDDEN_DIR}/tests/`, `${params.testsDir.replace(/^\//, '')}/`]);
    const failing = failures.length > 0 ? `; failing: ${failures.slice(0, 10).join('; ')}${failures.length > 10 ? ` (+${failures.length - 10} more)` : ''}` : '';
    const tail = output.trim().split('\n').slice(-5).join(' | ').slice(0, 600);
    if (result.timedOut) return { passed: false, detail: `tests timed out after ${params.timeoutMs} ms${failing}` };
    const read = await readRewards((file) => sandbox.readFile(posix.join(logs, file)));
    if (read.kind === 'invalid') throw new DefectError('environment', `task ${context.taskId}: ${params.script} wrote an unusable reward: ${read.problem}`);
    if (read.kind === 'none') {
      const layout = params.layout ?? (params.script === 'run-tests.sh' ? 'terminal-bench-1' : 'harbor');
      if (layout === 'harbor') {
        throw new DefectError('environment', `task ${context.taskId}: ${params.script} wrote no reward file (/logs/verifier/reward.txt or reward.json; Harbor treats that as a verifier error); exit ${result.exitCode}; output: ${tail}`);
      }
      // Terminal-Bench 1 graded by the test run itself (its pytest parser).
      const passed = result.exitCode === 0 && failures.length === 0;
      return { passed, detail: `${params.script} exited ${result.exitCode}${passed ? '' : failing || `; output: ${tail}`}`, rewards: { reward: passed ? 1 : 0 } };
    }
    const verdict = passes(read.rewards, params.passRule);
    const detail = `${read.file}: ${listRewards(read.rewards)}`;
    if (verdict.passed) return { passed: true, detail, rewards: read.rewards };
    return { passed: false, detail: `${detail} (${verdict.reason})${failing || `; output: ${tail}`}`, rewards: read.rewards };
  } finally {
    await sh(sandbox, `rm -rf ${HIDDEN_DIR}`);
  }
}

export const interopChecks: Record<string, CheckDefinition> = {
  harbor_tests: defineCheck({
    kind: 'outcome',
    description:
      "Runs an imported Harbor / Terminal-Bench task's tests (placed only after the episode) offline; passes when the reward file's keys meet the pass rule (default: every key at 1), or, for Terminal-Bench 1, when the tests pass.",
    params: HarborTestsParams,
    run: (params, ctx) => {
      if (!ctx.sandbox) throw new InfraError('environment', `task ${ctx.task.id}: harbor_tests needs an environment with a sandbox (harbor, terminal)`, { retryable: false });
      // The in-process shell has no python3 and no real bash: failing there would score the agent for our gap.
      if (!isProcessSandbox(ctx.sandbox)) {
        throw new InfraError('sandbox', `task ${ctx.task.id}: harbor_tests needs a process sandbox (real bash and python3: bwrap, or k8s with them in the image), not the in-process virtual shell`, { retryable: false });
      }
      return runHarborTests(params, ctx.sandbox, { taskId: ctx.task.id, signal: ctx.signal });
    },
  }),
};
