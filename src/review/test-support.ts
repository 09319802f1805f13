// Stores filled by real runs of a built-in environment (the oracle and random policies) plus
// detector findings written as the detectors would store them, for the review and API tests.
import {
  GAUNTLET_VERSION,
  modelCallIdFor,
  rolloutIdFor,
  RunConfig,
  SCHEMA_VERSION,
  Task,
  type DetectionFlag,
  type DetectionReport,
  type Message,
  type ModelCall,
  type Rollout,
  type RolloutStatus,
  type RunId,
  type Store,
} from '../core/index.ts';
import { executeRun, resolveRun } from '../runner/index.ts';
import { openStore } from '../store/index.ts';

export const MAIL_TASKS = ['mail/update-moved-contact', 'mail/flight-confirmation-code'];

export interface ReviewFixture {
  store: Store;
  /** The random policy at training step 100 (every rollout fails), then the oracle at step 200 (every one passes): a reward jump. */
  randomRun: RunId;
  oracleRun: RunId;
}

async function realRun(store: Store, options: { model: string; policyVersion: string; seed: number }): Promise<RunId> {
  const resolved = await resolveRun({ envs: ['mail'], taskIds: MAIL_TASKS, model: options.model, epochs: 4, groupSize: 2, concurrency: 4, seed: options.seed, sandbox: 'virtual', policyVersion: options.policyVersion });
  const summary = await executeRun({ store, run: { resolved } });
  if (summary.rollouts !== MAIL_TASKS.length * 4) throw new Error(`fixture run of ${options.model} made ${summary.rollouts} rollouts`);
  return summary.runId;
}

/** Two real runs in a new store (in memory unless `path` is given). */
export async function reviewFixture(options: { path?: string } = {}): Promise<ReviewFixture> {
  const store = openStore(options.path ?? ':memory:');
  const randomRun = await realRun(store, { model: 'random', policyVersion: 'step-100', seed: 11 });
  const oracleRun = await realRun(store, { model: 'oracle', policyVersion: 'step-200', seed: 11 });
  return { store, randomRun, oracleRun };
}

export function flag(category: DetectionFlag['category'], options: { detector?: string; callIndex?: number; severity?: DetectionFlag['severity'] } = {}): DetectionFlag {
  return {
    category,
    detector: options.detector ?? `rules/${category}`,
    severity: options.severity ?? 'high',
    evidence: { callIndex: options.callIndex ?? 0, excerpt: 'rm -rf tests/' },
    reason: 'synthetic finding for a test',
  };
}

/** Stores findings for the rollout's final attempt, as `gauntlet detect` would. */
export function saveFindings(store: Store, rollout: Rollout, flags: DetectionFlag[], options: { monitor?: boolean; review?: DetectionReport['review'] } = {}): void {
  const detectors = [...new Set(['rules/test_tampering', 'rules/dangerous_command', ...flags.map((f) => f.detector)])].sort();
  store.saveDetections(rollout.id, rollout.attempt, {
    createdAt: '2025-01-02T00:00:00.000Z',
    detectors,
    flags,
    monitor: options.monitor ? { status: 'ok', spec: 'scripted:monitor', verdict: flags.length > 0 ? 'flagged' : 'clean' } : null,
    review: options.review ?? [],
    unparsed: [],
  });
}


/** A run of the given tasks with no rollouts yet, for `writeScriptedRollout`. */
export function writeScriptedRun(store: Store, runId: string, taskIds: readonly string[]): RunId {
  const tasks = taskIds.map((id) => Task.parse({ id, env: 'terminal', instruction: `Scripted task ${id}: tidy the logs folder.`, verifier: { checks: [] }, golden: { steps: [] }, tags: { domain: 'synthetic', difficulty: 'easy' } }));
  const config = RunConfig.parse({ envs: ['terminal'], model: 'scripted:review', epochs: 4, concurrency: 1, seed: 0, sandbox: 'virtual' });
  const at = '2025-01-01T00:00:00.000Z';
  store.createRun({ schemaVersion: SCHEMA_VERSION, id: runId as RunId, createdAt: at, gauntletVersion: GAUNTLET_VERSION, config, status: 'finished', finishedAt: at }, tasks);
  return runId as RunId;
}

export interface ScriptedCall {
  /** What the assistant says; every call but the last also runs `ls <content>` through bash. */
  content: string;
  purpose?: ModelCall['purpose'];
  /** A call that failed (no response), as a timed-out model request is recorded. */
  failed?: boolean;
}

/**
 * One attempt of a rollout written straight through the store: its calls (each bash call answered
 * by a tool result), then the rollout row. Writing attempt 2 of a stored rollout is a retry of it.
 */
export function writeScriptedRollout(
  store: Store,
  options: { runId: RunId; taskId: string; epoch: number; calls: readonly (string | ScriptedCall)[]; attempt?: number; status?: RolloutStatus; startedAt?: string; seed?: number; perturbations?: Rollout['perturbations'] },
): Rollout {
  const attempt = options.attempt ?? 1;
  const status = options.status ?? 'scored';
  const rolloutId = rolloutIdFor(options.runId, options.taskId, options.epoch);
  const recorder = store.recorder({ runId: options.runId, rolloutId, attempt });
  const messages: Message[] = [
    { role: 'system', content: 'You are a careful engineer with a shell.' },
    { role: 'user', content: `Scripted task ${options.taskId}: tidy the logs folder.` },
  ];
  const startedAt = options.startedAt ?? new Date().toISOString();
  const calls = options.calls.map((c) => (typeof c === 'string' ? { content: c } : c));
  calls.forEach((call, index) => {
    const last = index === calls.length - 1;
    const id = modelCallIdFor(rolloutId, attempt, index);
    const command = `ls ${call.content}`;
    const message = { role: 'assistant' as const, content: call.content, toolCalls: last ? [] : [{ id: `call_${attempt}_${index}`, name: 'bash', arguments: { command }, argumentsText: JSON.stringify({ command }) }] };
    recorder.modelCall({
      schemaVersion: SCHEMA_VERSION,
      id,
      runId: options.runId,
      rolloutId,
      attempt,
      index,
      parentId: null,
      purpose: call.purpose ?? 'turn',
      model: 'scripted:review',
      request: { messages: [...messages], tools: [], sampling: {} },
      response: call.failed ? null : { message, finishReason: last ? 'stop' : 'tool_calls', usage: {} },
      ...(call.failed ? { error: { kind: 'timeout' as const, message: 'the model did not answer in time' } } : {}),
      startedAt,
      latencyMs: 10,
    });
    if (call.failed || (call.purpose ?? 'turn') !== 'turn') return;
    messages.push(message);
    if (!last) {
      recorder.event('tool_call', { id: `call_${attempt}_${index}`, name: 'bash', arguments: JSON.stringify({ command }) });
      recorder.event('tool_result', { id: `call_${attempt}_${index}`, ok: true, content: `listing of ${call.content}` });
      messages.push({ role: 'tool', toolCallId: `call_${attempt}_${index}`, name: 'bash', content: `listing of ${call.content}`, isError: false });
    }
  });
  const scored = status === 'scored';
  const rollout: Rollout = {
    schemaVersion: SCHEMA_VERSION,
    id: rolloutId,
    runId: options.runId,
    taskId: options.taskId as Rollout['taskId'],
    env: 'terminal',
    epoch: options.epoch,
    attempt,
    seed: options.seed ?? 0,
    model: 'scripted:review',
    scaffold: 'interleaved',
    status,
    terminationReason: scored ? 'answered' : status === 'infra_error' ? 'infra_error' : status === 'cancelled' ? 'cancelled' : 'error',
    score: scored ? 1 : null,
    passed: scored ? true : null,
    rewardTerms: [],
    verifier: null,
    error: scored ? null : { source: status === 'error' ? 'environment' : 'sandbox', message: `scripted ${status}` },
    finalAnswer: null,
    stats: { turns: calls.length, modelCalls: calls.length, toolCalls: Math.max(0, calls.length - 1), toolErrors: 0, promptTokens: 0, completionTokens: 0 },
    perturbations: options.perturbations ?? [],
    startedAt,
    endedAt: startedAt,
    durationMs: 10,
  };
  store.commitRollout(rollout);
  return rollout;
}
