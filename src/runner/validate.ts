import { nullRecorder, runAgent } from '../agent/index.ts';
import { createRng, errorMessage, InfraError, type ModelClient, type RolloutId, type RunId, type Task } from '../core/index.ts';
import { checkTaskDirectly, instantiate, type EnvironmentDefinition } from '../envs/index.ts';
import { createDestructivePolicy, createNoopPolicy, createOraclePolicy, createPlaceholderPolicy, createRandomPolicy } from '../model/index.ts';
import type { SandboxBackend } from '../sandbox/index.ts';
import { forEachConcurrent } from './pool.ts';

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
}

interface Play {
  passed: boolean;
  reason: string;
  infra?: string;
}

/** One rollout through the real agent loop, without a store: what `validate` uses for each policy. */
async function play(definition: EnvironmentDefinition, task: Task, model: ModelClient, options: { seed: number; sandbox?: SandboxBackend }): Promise<Play> {
  const environment = instantiate(definition, options.sandbox ? { sandbox: options.sandbox } : {});
  try {
    const reset = await environment.reset(task, { seed: options.seed });
    const result = await runAgent({
      task,
      environment,
      model,
      recorder: nullRecorder,
      identity: { runId: 'validate' as RunId, rolloutId: `validate:${task.id}` as RolloutId, attempt: 1 },
      settings: { maxTurns: Math.max(task.limits.maxTurns, task.golden.steps.length + 2), deadlineAt: Date.now() + task.limits.deadlineMs, rng: createRng(options.seed) },
      ...(reset.observation ? { observation: reset.observation } : {}),
    });
    if (result.infraError) return { passed: false, reason: 'infra_error', infra: result.infraError.message };
    const verdict = await environment.verify({ answer: result.answer, messages: result.history });
    return { passed: verdict.passed, reason: result.terminationReason };
  } catch (error) {
    return { passed: false, reason: 'infra_error', infra: error instanceof InfraError ? error.message : errorMessage(error) };
  } finally {
    await environment.close();
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
  const sandbox = options.sandbox;
  const results = new Map<string, TaskValidation>();
  await forEachConcurrent(tasks, options.concurrency ?? 4, async (task) => {
    const problems: string[] = [];
    const warnings: string[] = [];
    const opts = { seed, ...(sandbox ? { sandbox } : {}) };
    try {
      const direct = await checkTaskDirectly(definition, task, opts);
      problems.push(...direct.problems);
      const oracle = await play(definition, task, createOraclePolicy(), opts);
      if (oracle.infra) problems.push(`oracle hit an infrastructure error: ${oracle.infra}`);
      else if (!oracle.passed) problems.push(`the golden solution fails through the agent loop (stopped: ${oracle.reason})`);
      const mustFail: [string, ModelClient][] = [
        ['do-nothing', createNoopPolicy()],
        ['placeholder-argument', createPlaceholderPolicy()],
        ['destructive', createDestructivePolicy()],
        ...Array.from({ length: options.randomTries ?? 2 }, (_, i) => [`random (seed ${seed + i})`, createRandomPolicy({ seed: seed + i })] as [string, ModelClient]),
      ];
      for (const [name, model] of mustFail) {
        const outcome = await play(definition, task, model, opts);
        if (outcome.infra) problems.push(`${name} policy hit an infrastructure error: ${outcome.infra}`);
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
    } catch (error) {
      problems.push(`validation crashed: ${errorMessage(error)}`);
    }
    const result = { taskId: task.id, valid: problems.length === 0, problems, warnings };
    options.onTask?.(result);
    results.set(task.id, result);
  });
  const ordered = tasks.map((t) => results.get(t.id)!);
  return { env: definition.name, valid: ordered.every((r) => r.valid), tasks: ordered };
}
