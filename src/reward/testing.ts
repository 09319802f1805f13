// Sessions written for tests, recorded the way the agent loop records them (a model call per turn,
// then each tool's call and result events), through `traceAttempt`, with a clock that advances a
// fixed step per record; and the rubric and error check the reward tests share.
import assert from 'node:assert/strict';
import {
  InputError,
  memoryRecorder,
  modelCallIdFor,
  SCHEMA_VERSION,
  type AttemptRecorder,
  type JsonObject,
  type Message,
  type ModelCall,
  type Rollout,
  type RolloutId,
  type RunId,
  type TaskId,
  type VerifierOutcome,
} from '../core/index.ts';
import { Rubric } from './rubric.ts';
import { traceAttempt, type AttemptTrace } from './trace.ts';

/** A two-criterion rubric for judge tests: plan scored 1 to 5, honest 0 to 2. */
export const processRubric = Rubric.parse({
  id: 'process',
  version: 1,
  criteria: [
    { id: 'plan', description: 'Works to a plan.', scale: { min: 1, max: 5 } },
    { id: 'honest', description: 'Reports what happened.', scale: { min: 0, max: 2 } },
  ],
});

/** The InputError `fn` throws, for asserting on where and what; fails the test when it throws anything else or nothing. */
export function inputError(fn: () => unknown): InputError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof InputError, `expected an InputError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected an InputError, nothing was thrown');
}

export interface SessionToolUse {
  name: string;
  args: JsonObject;
  /** The tool's output; `error` instead marks it failed. */
  result?: string;
  error?: string;
}

export interface SessionSpec {
  task: string;
  turns: SessionToolUse[][];
  finalAnswer?: string;
  verifier?: VerifierOutcome;
  /** Clock step per record, in ms (default 1000). */
  stepMs?: number;
  keepCalls?: boolean;
}

export interface RecordedSession {
  rollout: Rollout;
  trace: AttemptTrace;
  calls: ModelCall[];
  /** Everything that reached the inner recorder. */
  inner: ReturnType<typeof memoryRecorder>;
}

export function recordSession(spec: SessionSpec): RecordedSession {
  const runId = 'run_test_reward' as RunId;
  const rolloutId = 'ro_test_reward' as RolloutId;
  const identity = { runId, rolloutId, attempt: 1 };
  const inner = memoryRecorder();
  const attempt: AttemptRecorder = { ...inner, seal: () => {}, sealed: false };
  let clock = Date.parse('2026-03-10T09:00:00.000Z');
  const step = spec.stepMs ?? 1000;
  const { recorder, trace } = traceAttempt(attempt, { identity, now: () => (clock += step), keepCalls: spec.keepCalls ?? true });
  const history: Message[] = [
    { role: 'system', content: 'You are working in a Linux sandbox; your working directory is /work.' },
    { role: 'user', content: spec.task },
  ];
  const calls: ModelCall[] = [];
  recorder.event('rollout_started', { taskId: 'test/task', attempt: 1, scaffold: 'interleaved', model: 'test' });
  const turns = [...spec.turns, []];
  turns.forEach((uses, i) => {
    const last = i === turns.length - 1;
    const message: Message = {
      role: 'assistant',
      content: last ? (spec.finalAnswer ?? 'Done.') : '',
      toolCalls: uses.map((u, k) => ({ id: `call_${i}_${k}`, name: u.name, arguments: u.args, argumentsText: JSON.stringify(u.args) })),
    };
    const call: ModelCall = {
      schemaVersion: SCHEMA_VERSION,
      id: modelCallIdFor(rolloutId, 1, i),
      runId,
      rolloutId,
      attempt: 1,
      index: i,
      parentId: i === 0 ? null : modelCallIdFor(rolloutId, 1, i - 1),
      purpose: 'turn',
      model: 'test',
      request: { messages: [...history], tools: [], sampling: {} },
      response: { message, finishReason: last ? 'stop' : 'tool_calls', usage: {} },
      startedAt: new Date(clock).toISOString(),
      latencyMs: step,
    };
    calls.push(call);
    recorder.modelCall(call);
    history.push(message);
    uses.forEach((u, k) => {
      const id = `call_${i}_${k}`;
      const content = u.error !== undefined ? `Error: ${u.error}` : (u.result ?? '');
      recorder.event('tool_call', { id, name: u.name, arguments: JSON.stringify(u.args) });
      recorder.event('tool_result', { id, ok: u.error === undefined, content });
      history.push({ role: 'tool', toolCallId: id, name: u.name, content, isError: u.error !== undefined });
    });
  });
  const toolCalls = spec.turns.reduce((n, t) => n + t.length, 0);
  const rollout: Rollout = {
    schemaVersion: SCHEMA_VERSION,
    id: rolloutId,
    runId,
    taskId: 'test/task' as TaskId,
    env: 'terminal',
    epoch: 0,
    attempt: 1,
    seed: 0,
    model: 'test',
    scaffold: 'interleaved',
    status: 'scored',
    terminationReason: 'answered',
    score: null,
    passed: null,
    rewardTerms: [],
    verifier: spec.verifier ?? { passed: true, score: 1, checks: [{ name: 'done', kind: 'outcome', passed: true }] },
    error: null,
    finalAnswer: spec.finalAnswer ?? 'Done.',
    stats: {
      turns: turns.length,
      modelCalls: turns.length,
      toolCalls,
      toolErrors: spec.turns.flat().filter((u) => u.error !== undefined).length,
      promptTokens: 0,
      completionTokens: 0,
    },
    perturbations: [],
    startedAt: '2026-03-10T09:00:00.000Z',
    endedAt: '2026-03-10T09:10:00.000Z',
    durationMs: 600_000,
  };
  return { rollout, trace, calls, inner };
}

/** A shell step as the terminal environment answers it. */
export function shell(command: string, output = '', exit = 0): SessionToolUse {
  return { name: 'run_command', args: { command }, result: `exit code: ${exit}\nstdout:\n${output}\nstderr:\n` };
}
