// The `harbor_tests` check: grades an imported Harbor / Terminal-Bench task the way its harness
// would, offline. The test files reach the sandbox only now, after the episode, in a hidden folder.
import { posix } from 'node:path';
import { z } from 'zod';
import { InfraError, type Sandbox } from '../../core/index.ts';
import { defineCheck, type CheckDefinition, type CheckOutput } from '../define.ts';
import { RUNNER_VARIABLE } from './adapt-script.ts';
import { gradingMapping, HIDDEN_DIR, mapPaths } from './paths.ts';
import { PYTHON_RUNNER } from './pyrunner.ts';

export const HarborTestsParams = z.object({
  name: z.string().optional(),
  /** The image's WORKDIR: its absolute paths in the test files mean the sandbox work dir. */
  containerWorkdir: z.string().startsWith('/'),
  /** Where the harness put the tests in the container (`/tests`); mapped into the hidden folder. */
  testsDir: z.string().startsWith('/').default('/tests'),
  /** Image files outside the WORKDIR: container path → where they were placed, relative to the work dir. */
  imagePaths: z.record(z.string(), z.string()).default({}),
  /** The tests folder's files (relative path → text), with the test script already adapted. */
  files: z.record(z.string(), z.string()),
  /** The script to run, a key of `files`. */
  script: z.string().min(1),
  timeoutMs: z.number().int().positive().default(600_000),
  env: z.record(z.string(), z.string()).default({}),
});
export type HarborTestsParams = z.infer<typeof HarborTestsParams>;

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

/** The reward the script wrote, if any: reward.txt (one number) or reward.json's `reward`. */
async function readReward(sandbox: Sandbox, logs: string): Promise<{ value: number; file: string } | { error: string } | null> {
  const text = await sandbox.readFile(posix.join(logs, 'reward.txt'));
  if (text !== null && text.trim() !== '') {
    const value = Number(text.trim());
    return Number.isFinite(value) ? { value, file: 'reward.txt' } : { error: `reward.txt holds ${JSON.stringify(text.trim().slice(0, 40))}, not a number` };
  }
  const json = await sandbox.readFile(posix.join(logs, 'reward.json'));
  if (json === null || json.trim() === '') return null;
  try {
    const parsed: unknown = JSON.parse(json);
    const reward = parsed !== null && typeof parsed === 'object' ? (parsed as Record<string, unknown>).reward : undefined;
    return typeof reward === 'number' ? { value: reward, file: 'reward.json' } : { error: 'reward.json has no numeric "reward"' };
  } catch {
    return { error: 'reward.json is not valid JSON' };
  }
}

async function sh(sandbox: Sandbox, command: string): Promise<void> {
  const result = await sandbox.exec(command, { timeoutMs: 30_000 });
  if (result.exitCode !== 0) throw new InfraError('sandbox', `harbor_tests: \`${command}\` failed: ${result.stderr.trim().slice(0, 300)}`);
}

export async function runHarborTests(params: HarborTestsParams, sandbox: Sandbox, signal?: AbortSignal): Promise<CheckOutput> {
  const workdir = sandbox.workdir;
  const hidden = posix.join(workdir, HIDDEN_DIR);
  const testsDir = posix.join(hidden, 'tests');
  const logs = posix.join(hidden, 'logs', 'verifier');
  const mapping = gradingMapping({ containerWorkdir: params.containerWorkdir, testsDir: params.testsDir, workdir, imagePaths: params.imagePaths });
  // Anything the agent left at these paths (a planted reward file) is removed first.
  await sh(sandbox, `rm -rf ${HIDDEN_DIR} && mkdir -p ${HIDDEN_DIR}/logs/verifier ${HIDDEN_DIR}/logs/agent ${HIDDEN_DIR}/tests`);
  try {
    for (const [path, content] of Object.entries(params.files)) await sandbox.writeFile(posix.join(testsDir, path), mapPaths(content, mapping));
    const runner = posix.join(hidden, 'gauntlet_runner.py');
    await sandbox.writeFile(runner, PYTHON_RUNNER);
    const result = await sandbox.exec(`bash ${JSON.stringify(posix.join(testsDir, params.script))}`, {
      timeoutMs: params.timeoutMs,
      cwd: workdir,
      ...(signal ? { signal } : {}),
      env: { ...params.env, TEST_DIR: testsDir, [RUNNER_VARIABLE]: runner, PYTHONDONTWRITEBYTECODE: '1' },
    });
    const output = `${result.stdout}\n${result.stderr}`;
    const failures = failingTests(output, [`${testsDir}/`, `${HIDDEN_DIR}/tests/`, `${params.testsDir.replace(/^\//, '')}/`]);
    const tail = output.trim().split('\n').slice(-5).join(' | ').slice(0, 600);
    if (result.timedOut) return { passed: false, detail: `tests timed out after ${params.timeoutMs} ms${failures.length ? `; failing: ${failures.join('; ')}` : ''}` };
    const reward = await readReward(sandbox, logs);
    if (reward && 'error' in reward) return { passed: false, detail: reward.error };
    const failing = failures.length > 0 ? `; failing: ${failures.slice(0, 10).join('; ')}${failures.length > 10 ? ` (+${failures.length - 10} more)` : ''}` : '';
    if (reward) {
      return reward.value >= 1 ? { passed: true, detail: `${reward.file}: ${reward.value}` } : { passed: false, detail: `${reward.file}: ${reward.value}${failing || `; output: ${tail}`}` };
    }
    if (result.exitCode === 0 && failures.length === 0) return { passed: true, detail: `${params.script} exited 0 (no reward file written)` };
    return { passed: false, detail: `${params.script} exited ${result.exitCode}${failing || `; output: ${tail}`}` };
  } finally {
    await sh(sandbox, `rm -rf ${HIDDEN_DIR}`);
  }
}

export const interopChecks: Record<string, CheckDefinition> = {
  harbor_tests: defineCheck({
    kind: 'outcome',
    description: "Runs an imported Harbor / Terminal-Bench task's tests (placed only after the episode) offline; passes when they all pass or the reward file says 1.",
    params: HarborTestsParams,
    run: (params, ctx) => {
      if (!ctx.sandbox) throw new InfraError('environment', `task ${ctx.task.id}: harbor_tests needs an environment with a sandbox (terminal)`, { retryable: false });
      // The in-process shell has no python3 and no real bash: failing there would score the agent for our gap.
      if (ctx.sandbox.backend !== 'bwrap') {
        throw new InfraError('sandbox', `task ${ctx.task.id}: harbor_tests needs the bwrap sandbox (real bash and python3), not "${ctx.sandbox.backend}"`, { retryable: false });
      }
      return runHarborTests(params, ctx.sandbox, ctx.signal);
    },
  }),
};
