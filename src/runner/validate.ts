import { errorMessage, nullRecorder, type ModelClient, type Task } from '../core/index.ts';
import { checkTaskDirectly, createActFirstPolicy, taskProblemLine, taskProblems, type EnvironmentDefinition } from '../envs/index.ts';
import { createDestructivePolicy, createNoopPolicy, createOraclePolicy, createPlaceholderPolicy, createRandomPolicy } from '../model/index.ts';
import type { SandboxBackend } from '../sandbox/index.ts';
import { runEpisode } from './episode.ts';
import { forEachConcurrent } from './pool.ts';
import { unrecordedAgentDriver } from './unrecorded-agent.ts';

export interface TaskValidation {
  taskId: string;
  valid: boolean;
  /** Why the task cannot be trusted (golden fails, a do-nothing policy passes, non-determinism …). */
  problems: string[];
  /** Worth a look, not disqualifying (no invariant checks, a very short golden solution …). */
  warnings: string[];
}

export interface EnvironmentValidation {
  env: string;
  valid: boolean;
  tasks: TaskValidation[];
}

export interface ValidateOptions {
  definition: EnvironmentDefinition;
  tasks?: Task[];
  seed?: number;
  sandbox?: SandboxBackend;
  /** Seeds the random policy tries per task. */
  randomTries?: number;
  /** Tasks validated at once (sandboxed environments spend most of their time waiting on processes). */
  concurrency?: number;
  onTask?: (result: TaskValidation) => void;
  /** The file (and its `index`th task) a task was read from, so its data problems name their line there as `run` does. */
  sourceOf?: (task: Task) => TaskSource | undefined;
}

export interface TaskSource {
  path: string;
  index: number;
}

interface Play {
  passed: boolean;
  reason: string;
  /** Set when the episode could not be judged: infrastructure, or a defect (named as such). */
  failure?: string;
}

/** One episode through the real lifecycle and agent loop, without a store: what `validate` uses for each policy. */
async function play(definition: EnvironmentDefinition, task: Task, model: ModelClient, options: { seed: number; sandbox?: SandboxBackend }): Promise<Play> {
  const outcome = await runEpisode({
    definition,
    task,
    seed: options.seed,
    ...(options.sandbox ? { sandbox: options.sandbox } : {}),
    deadlineMs: task.limits.deadlineMs,
    graceMs: 10_000,
    now: Date.now,
    recorder: nullRecorder,
    drive: unrecordedAgentDriver({ task, model, runId: 'validate', seed: options.seed, maxTurns: Math.max(task.limits.maxTurns, task.golden.steps.length + 2) }),
  });
  switch (outcome.kind) {
    case 'done':
      return { passed: outcome.verifier.passed, reason: outcome.result.terminationReason };
    case 'infra':
      return { passed: false, reason: 'infra_error', failure: `an infrastructure error: ${outcome.message}` };
    case 'error':
      return { passed: false, reason: 'error', failure: `a defect in ${outcome.source} code: ${outcome.message}` };
    case 'cancelled':
      return { passed: false, reason: 'cancelled', failure: 'the episode was cancelled' };
  }
}

/**
 * Proves each task trustworthy: the golden solution passes through the agent loop and by direct
 * replay; do-nothing, random, placeholder-argument and destructive policies fail; the same seed
 * gives the same final state; and any environment-specific self-check holds.
 */
export async function validateEnvironment(options: ValidateOptions): Promise<EnvironmentValidation> {
  const { definition } = options;
  const seed = options.seed ?? 1;
  const tasks = options.tasks ?? definition.tasks();
  const results = new Map<string, TaskValidation>();
  await forEachConcurrent(tasks, options.concurrency ?? 4, async (task) => {
    let found: { problems: string[]; warnings: string[] };
    try {
      const source = options.sourceOf?.(task);
      found = await validateTask(definition, task, { seed, ...(options.sandbox ? { sandbox: options.sandbox } : {}), randomTries: options.randomTries ?? 2, ...(source ? { source } : {}) });
    } catch (error) {
      found = { problems: [`validation crashed: ${errorMessage(error)}`], warnings: [] };
    }
    const result = { taskId: task.id, valid: found.problems.length === 0, ...found };
    options.onTask?.(result);
    results.set(task.id, result);
  });
  const ordered = tasks.map((t) => results.get(t.id)!);
  return { env: definition.name, valid: ordered.every((r) => r.valid), tasks: ordered };
}

/** A task data problem prefixed with where it sits, worded as `run` refuses it: `FILE:LINE: problem`. */
function locateDataProblem(problem: string, source: TaskSource | undefined): string {
  if (!source) return `task data: ${problem}`;
  const line = taskProblemLine(source.path, source.index, problem);
  return line === undefined ? `${source.path} (task ${source.index + 1}): ${problem}` : `${source.path}:${line}: ${problem}`;
}

function requiresAsking(task: Task): boolean {
  const checks = Array.isArray(task.verifier.checks) ? task.verifier.checks : [];
  return checks.some((c) => c !== null && typeof c === 'object' && !Array.isArray(c) && c.check === 'asked_before_acting');
}

async function validateTask(
  definition: EnvironmentDefinition,
  task: Task,
  options: { seed: number; sandbox?: SandboxBackend; randomTries: number; source?: TaskSource },
): Promise<{ problems: string[]; warnings: string[] }> {
  const { seed } = options;
  const opts = { seed, ...(options.sandbox ? { sandbox: options.sandbox } : {}) };
  // A task that is broken as data cannot be played; say what is wrong with it instead.
  const data = taskProblems(definition, task);
  if (data.length > 0) return { problems: data.map((p) => locateDataProblem(p, options.source)), warnings: [] };
  const problems: string[] = [];
  const warnings: string[] = [];
  const direct = await checkTaskDirectly(definition, task, opts);
  problems.push(...direct.problems);
  const oracle = await play(definition, task, createOraclePolicy(), opts);
  if (oracle.failure) problems.push(`oracle hit ${oracle.failure}`);
  else if (!oracle.passed) problems.push(`the golden solution fails through the agent loop (stopped: ${oracle.reason})`);
  const mustFail: [string, ModelClient][] = [
    ['do-nothing', createNoopPolicy()],
    ['placeholder-argument', createPlaceholderPolicy()],
    ['destructive', createDestructivePolicy()],
    ...Array.from({ length: options.randomTries }, (_, i) => [`random (seed ${seed + i})`, createRandomPolicy({ seed: seed + i })] as [string, ModelClient]),
    // Where the task requires asking the user first, doing the right thing without asking must fail.
    ...(requiresAsking(task) ? [['act-before-asking', createActFirstPolicy()] as [string, ModelClient]] : []),
  ];
  for (const [name, model] of mustFail) {
    const outcome = await play(definition, task, model, opts);
    if (outcome.failure) problems.push(`${name} policy hit ${outcome.failure}`);
    else if (outcome.passed) problems.push(`the ${name} policy passes the verifier`);
  }
  if (definition.selfCheck) problems.push(...(await definition.selfCheck(task, opts)));
  // Invariants and tool calls only mean something where the agent can change state.
  const hasTools = Object.keys(definition.tools).length > 0;
  const checks = Array.isArray(task.verifier.checks) ? task.verifier.checks : [];
  const kinds = checks.map((c) => (c && typeof c === 'object' && !Array.isArray(c) ? definition.checks[String(c.check)]?.kind : undefined));
  if (hasTools && !kinds.includes('invariant') && !checks.some((c) => c && typeof c === 'object' && !Array.isArray(c) && c.check === 'table_unchanged')) {
    warnings.push('the verifier has no invariant check (nothing guards against collateral damage)');
  }
  if (hasTools && task.golden.steps.length === 0) warnings.push('the golden solution makes no tool calls');
  return { problems, warnings };
}
