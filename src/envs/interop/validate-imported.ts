// Per-task validation of an imported set: does the golden solution pass through the agent loop,
// does doing nothing fail, and if not, why — with the build steps that failed, the network steps
// skipped and the tools missing, so a task is called likely broken only when its oracle fails.
// (Interop sits above the runner; this file is not exported from interop/index.ts, which the
// runner imports.)
import { nullRecorder, type ModelClient, type Task } from '../../core/index.ts';
import { createNoopPolicy, createOraclePolicy } from '../../model/index.ts';
import { forEachConcurrent, runEpisode, unrecordedAgentDriver } from '../../runner/index.ts';
import type { SandboxBackend } from '../../sandbox/index.ts';
import { rowsOf } from '../state.ts';
import { harbor, harborState } from './harbor-env.ts';

export interface PolicyOutcome {
  /** `passed`/`failed` when the verifier judged it; otherwise what stopped the episode. */
  result: 'passed' | 'failed' | 'infra_error' | 'error' | 'cancelled';
  detail: string;
  rewards?: Record<string, number>;
}

export type ImportedVerdict = 'ok' | 'likely-broken' | 'passes-without-work';

export interface ImportedValidation {
  taskId: string;
  verdict: ImportedVerdict;
  oracle: PolicyOutcome;
  doNothing: PolicyOutcome;
  /** Dockerfile steps that failed or ran out of time when the sandbox was built. */
  failedBuildSteps: string[];
  /** Why the verdict is not `ok`: the failing side's detail, then what the import could not reproduce. */
  reasons: string[];
}

export interface ValidateImportedOptions {
  tasks: Task[];
  seed?: number;
  sandbox?: SandboxBackend;
  concurrency?: number;
  onTask?: (result: ImportedValidation) => void;
}

interface Play extends PolicyOutcome {
  buildLog: { at: string; status: string; output: string }[];
}

async function play(task: Task, model: ModelClient, options: { seed: number; sandbox?: SandboxBackend }): Promise<Play> {
  let buildLog: Play['buildLog'] = [];
  const agent = unrecordedAgentDriver({ task, model, runId: 'validate-imported', seed: options.seed, maxTurns: Math.max(task.limits.maxTurns, task.golden.steps.length + 2) });
  const outcome = await runEpisode({
    definition: harbor,
    task,
    seed: options.seed,
    ...(options.sandbox ? { sandbox: options.sandbox } : {}),
    deadlineMs: task.limits.deadlineMs,
    // The watchdog counts from the start; the task's own verifier time comes after the agent's.
    graceMs: harborState(task).timeouts.verifierSec * 1000 + 30_000,
    now: Date.now,
    recorder: nullRecorder,
    drive: async (episode, context) => {
      buildLog = rowsOf(await episode.environment.snapshot(), 'build_log').map((r) => ({ at: String(r.at), status: String(r.status), output: String(r.output ?? '') }));
      return agent(episode, context);
    },
  });
  switch (outcome.kind) {
    case 'done': {
      const failed = outcome.verifier.checks.filter((c) => !c.passed).map((c) => `${c.name}: ${c.detail ?? 'failed'}`);
      const passed = outcome.verifier.checks.filter((c) => c.passed).map((c) => `${c.name}: ${c.detail ?? 'passed'}`);
      return {
        result: outcome.verifier.passed ? 'passed' : 'failed',
        detail: (outcome.verifier.passed ? passed : failed).join('; ') || `stopped: ${outcome.result.terminationReason}`,
        ...(outcome.verifier.rewards ? { rewards: outcome.verifier.rewards } : {}),
        buildLog,
      };
    }
    case 'infra':
      return { result: 'infra_error', detail: outcome.message, buildLog };
    case 'error':
      return { result: 'error', detail: `a defect in ${outcome.source} code: ${outcome.message}`, buildLog };
    case 'cancelled':
      return { result: 'cancelled', detail: 'the episode was cancelled', buildLog };
  }
}

function listOf(task: Task, key: 'skippedBuildSteps'): string[] {
  const value = task.metadata?.[key];
  return Array.isArray(value) ? value.map(String) : [];
}

function missingOf(task: Task): string[] {
  const missing = task.metadata?.missing;
  if (!missing || typeof missing !== 'object' || Array.isArray(missing)) return [];
  const commands = Array.isArray(missing.commands) ? missing.commands.map(String) : [];
  const modules = Array.isArray(missing.pythonModules) ? missing.pythonModules.map(String) : [];
  return [...commands.map((c) => `command ${c}`), ...modules.map((m) => `python module ${m}`)];
}

async function validateOne(task: Task, options: { seed: number; sandbox?: SandboxBackend }): Promise<ImportedValidation> {
  const oracle = await play(task, createOraclePolicy(), options);
  const doNothing = await play(task, createNoopPolicy(), options);
  const failedBuildSteps = oracle.buildLog.filter((r) => r.status !== 'ok').map((r) => `${r.at}: ${r.status}${r.output ? ` (${r.output.split('\n').slice(-2).join(' | ').slice(0, 300)})` : ''}`);
  const reasons: string[] = [];
  let verdict: ImportedVerdict = 'ok';
  if (oracle.result !== 'passed') {
    verdict = 'likely-broken';
    reasons.push(`oracle ${oracle.result}: ${oracle.detail}`);
    reasons.push(...failedBuildSteps.map((s) => `build step failed: ${s}`));
    reasons.push(...listOf(task, 'skippedBuildSteps').map((s) => `network step skipped: ${s}`));
    reasons.push(...missingOf(task).map((m) => `missing in the sandbox: ${m}`));
  } else if (doNothing.result === 'passed') {
    verdict = 'passes-without-work';
    reasons.push(`doing nothing passes: ${doNothing.detail}`);
  } else if (doNothing.result !== 'failed') {
    verdict = 'likely-broken';
    reasons.push(`do-nothing ${doNothing.result}: ${doNothing.detail}`);
  }
  const strip = ({ buildLog: _, ...rest }: Play): PolicyOutcome => rest;
  return { taskId: task.id, verdict, oracle: strip(oracle), doNothing: strip(doNothing), failedBuildSteps, reasons };
}

/** Validates imported `harbor` tasks, in the order given; each result also goes to `onTask` as it is known. */
export async function validateImportedTasks(options: ValidateImportedOptions): Promise<ImportedValidation[]> {
  const seed = options.seed ?? 1;
  const results = new Map<string, ImportedValidation>();
  await forEachConcurrent(options.tasks, options.concurrency ?? 2, async (task) => {
    const result = await validateOne(task, { seed, ...(options.sandbox ? { sandbox: options.sandbox } : {}) });
    results.set(task.id, result);
    options.onTask?.(result);
  });
  return options.tasks.map((t) => results.get(t.id)!);
}
