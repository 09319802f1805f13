// A small stored run for export tests: rollouts with exact extensions, dropped reasoning, a
// summary, a retried attempt, a call without engine ids, an infra error and a rollout without
// logprobs or temperatures, all saved through the store's own recorder.
import { openStore } from '../../store/index.ts';
import {
  createRng,
  GAUNTLET_VERSION,
  RunConfig,
  SCHEMA_VERSION,
  withoutReasoning,
  type AssistantMessage,
  type Message,
  type ModelCall,
  type Rollout,
  type RolloutId,
  type Run,
  type RunId,
  type Store,
  type TaskId,
  type ToolSpec,
} from '../../core/index.ts';
import { randomIds, randomLogprobs, syntheticCall } from '../trajectory/synthetic.ts';

export const EXPORT_RUN = 'run_export' as RunId;
const tools: ToolSpec[] = [{ name: 'look', description: 'Look around.', parameters: { type: 'object', properties: { at: { type: 'string' } } } }];

interface ConversationPlan {
  rolloutId: RolloutId;
  turns: number;
  attempt?: number;
  /** At this turn the scaffold resends turn 0 without its reasoning. */
  dropReasoningAt?: number;
  /** Before this turn a summary call condenses the context. */
  summaryAt?: number;
  source?: 'engine' | 'tokenizer';
  logprobs?: boolean;
  temperature?: number;
  policyVersion?: string;
  seed: number;
}

/** A tool-using conversation whose calls are recorded as the agent loop records them. */
export function plannedCalls(runId: RunId, plan: ConversationPlan, firstPrompt: number[]): ModelCall[] {
  const rng = createRng(`${plan.rolloutId}:${plan.seed}`);
  const system: Message = { role: 'system', content: 'You are careful.' };
  const user: Message = { role: 'user', content: 'Find the key.' };
  let messages: Message[] = [system, user];
  let prompt = [...firstPrompt];
  let reasoningIds: number[] = [];
  let firstReply: AssistantMessage | null = null;
  const calls: ModelCall[] = [];
  let index = 0;
  const record = (spec: Omit<Parameters<typeof syntheticCall>[0], 'runId' | 'rolloutId' | 'index' | 'parentId' | 'attempt'>): ModelCall => {
    const call = syntheticCall({
      runId,
      rolloutId: plan.rolloutId,
      attempt: plan.attempt ?? 1,
      index: index++,
      parentId: calls.at(-1)?.id ?? null,
      ...spec,
      ...(plan.temperature === undefined ? {} : { temperature: plan.temperature }),
      ...(plan.policyVersion === undefined ? {} : { policyVersion: plan.policyVersion }),
      ...(plan.source ? { source: plan.source } : {}),
    });
    const withTools = { ...call, request: { ...call.request, tools } };
    calls.push(withTools);
    return withTools;
  };
  for (let turn = 0; turn < plan.turns; turn++) {
    if (turn === plan.summaryAt) {
      const summaryIds = randomIds(rng, 4);
      record({ purpose: 'summary', messages: [...messages, { role: 'user', content: 'Summarise.' }], reply: { role: 'assistant', content: 'So far: looked twice.', toolCalls: [] }, promptIds: [...prompt, 7], completionIds: summaryIds, logprobs: randomLogprobs(rng, 4) });
      messages = [system, { role: 'user', content: 'Find the key. So far: looked twice.' }];
      prompt = [...firstPrompt, ...summaryIds, 8];
    }
    if (turn === plan.dropReasoningAt && firstReply) {
      const dropped = withoutReasoning(firstReply);
      messages = messages.map((m) => (m === firstReply ? dropped : m));
      prompt = prompt.filter((_, i) => i < firstPrompt.length || i >= firstPrompt.length + reasoningIds.length);
    }
    const last = turn === plan.turns - 1;
    const reasoning = randomIds(rng, 2);
    const completionIds = [...reasoning, ...randomIds(rng, 3)];
    const reply: AssistantMessage = {
      role: 'assistant',
      content: last ? 'The key is under the mat.' : '',
      reasoning: { text: `thought ${turn}`, source: 'reasoning_field' },
      toolCalls: last ? [] : [{ id: `call_${turn}`, name: 'look', arguments: { at: `spot ${turn}` }, argumentsText: `{"at":"spot ${turn}"}` }],
    };
    record({ messages: [...messages], reply, promptIds: prompt, completionIds, ...(plan.logprobs === false ? {} : { logprobs: randomLogprobs(rng, completionIds.length) }) });
    if (turn === 0) {
      firstReply = reply;
      reasoningIds = reasoning;
    }
    messages = [...messages, reply, { role: 'tool', toolCallId: `call_${turn}`, name: 'look', content: `nothing at spot ${turn}`, isError: false }];
    prompt = [...prompt, ...completionIds, ...randomIds(rng, 3)];
  }
  return calls;
}

export function storedRollout(over: Omit<Partial<Rollout>, 'taskId'> & { id: RolloutId; taskId: string }): Rollout {
  const scored = (over.status ?? 'scored') === 'scored';
  return {
    schemaVersion: SCHEMA_VERSION,
    runId: EXPORT_RUN,
    env: 'keys',
    epoch: 0,
    attempt: 1,
    seed: 11,
    model: 'synthetic',
    scaffold: 'interleaved',
    status: 'scored',
    terminationReason: scored ? 'answered' : 'infra_error',
    score: scored ? 1 : null,
    passed: scored ? true : null,
    rewardTerms: scored ? [{ name: 'verifier', value: over.score ?? 1, weight: 1, source: 'verifier' }] : [],
    verifier: null,
    error: scored ? null : { source: 'model', message: 'HTTP 503' },
    finalAnswer: null,
    stats: { turns: 3, modelCalls: 3, toolCalls: 2, toolErrors: 0, promptTokens: 0, completionTokens: 0 },
    perturbations: [],
    startedAt: '2026-01-01T00:00:00.000Z',
    endedAt: '2026-01-01T00:00:01.000Z',
    durationMs: 1000,
    ...over,
    taskId: over.taskId as TaskId,
  };
}

/**
 * Stores the export test run. Group `keys/a@w0` (task a, shared world): a0 passes cleanly, a1
 * drops turn 0's reasoning at turn 2, a2 summarises before turn 2 after a failed first attempt.
 * Task b: b0 has ids from a local tokenizer only (no token export; SFT still can), b1 is an infra
 * error. Task c: a singleton without logprobs; task d: a failed singleton without temperatures.
 */
function exportRunRecord(id: RunId, status: Run['status'] = 'finished'): Run {
  const config = RunConfig.parse({ envs: ['keys'], model: 'synthetic', epochs: 3, concurrency: 1, seed: 11 });
  return { schemaVersion: SCHEMA_VERSION, id, createdAt: '2026-01-01T00:00:00.000Z', gauntletVersion: GAUNTLET_VERSION, config, status, finishedAt: status === 'finished' ? '2026-01-01T00:01:00.000Z' : null };
}

export function seedExportRun(store: Store): void {
  store.createRun(exportRunRecord(EXPORT_RUN), []);
  const shared = randomIds(createRng('shared prompt'), 12);
  const save = (rollout: Rollout, plans: ConversationPlan[]) => {
    for (const plan of plans) {
      const recorder = store.recorder({ runId: EXPORT_RUN, rolloutId: rollout.id, attempt: plan.attempt ?? 1 });
      for (const call of plannedCalls(EXPORT_RUN, plan, shared)) recorder.modelCall(call);
    }
    store.commitRollout(rollout);
  };
  const id = (s: string) => `ro_${s}` as RolloutId;
  const a = { taskId: 'keys/a', groupId: 'keys/a@w0', seed: 5 };
  save(storedRollout({ id: id('a0'), ...a, epoch: 0, score: 1, passed: true }), [{ rolloutId: id('a0'), turns: 3, temperature: 1, policyVersion: '3', seed: 1 }]);
  save(storedRollout({ id: id('a1'), ...a, epoch: 1, score: 0, passed: false }), [{ rolloutId: id('a1'), turns: 3, dropReasoningAt: 2, temperature: 1, policyVersion: '4', seed: 2 }]);
  save(storedRollout({ id: id('a2'), ...a, epoch: 2, attempt: 2, score: 0.5, passed: false }), [
    { rolloutId: id('a2'), turns: 1, attempt: 1, seed: 9 },
    { rolloutId: id('a2'), turns: 3, attempt: 2, summaryAt: 2, temperature: 1, policyVersion: '4', seed: 3 },
  ]);
  save(storedRollout({ id: id('b0'), taskId: 'keys/b', seed: 6, epoch: 0, score: 1, passed: true }), [{ rolloutId: id('b0'), turns: 2, source: 'tokenizer', seed: 4 }]);
  save(storedRollout({ id: id('b1'), taskId: 'keys/b', seed: 6, epoch: 1, status: 'infra_error' }), [{ rolloutId: id('b1'), turns: 1, seed: 5 }]);
  save(storedRollout({ id: id('c0'), taskId: 'keys/c', seed: 7, epoch: 0, score: 1, passed: true }), [{ rolloutId: id('c0'), turns: 2, logprobs: false, seed: 6 }]);
  save(storedRollout({ id: id('d0'), taskId: 'keys/d', seed: 8, epoch: 0, score: 0.3, passed: false }), [{ rolloutId: id('d0'), turns: 2, seed: 7 }]);
}

export const HOSTILE_RUN = 'run_hostile' as RunId;

export interface CallPlan {
  prompt: number[];
  completion: number[];
  logprobs?: number[];
  content?: string;
  /** Default 1. */
  temperature?: number;
  policyVersion?: string;
  finishReason?: 'stop' | 'tool_calls' | 'length';
}

export interface RolloutPlan {
  id: string;
  calls: CallPlan[];
  /** Default: epoch % 2. */
  score?: number;
  rollout?: Partial<Rollout>;
}

/** A store (in memory, or at `path`) with one run, HOSTILE_RUN, whose rollouts (one group, epochs 0, 1, …) made the calls given, each the child of the one before. */
export function storeWith(rollouts: RolloutPlan[], status: Run['status'] = 'finished', path = ':memory:'): Store {
  const store = openStore(path);
  store.createRun(exportRunRecord(HOSTILE_RUN, status), []);
  rollouts.forEach((spec, epoch) => {
    const rolloutId = spec.id as RolloutId;
    const recorder = store.recorder({ runId: HOSTILE_RUN, rolloutId, attempt: 1 });
    let messages: Message[] = [{ role: 'user', content: spec.calls[0]?.content ?? 'Go.' }];
    let parentId: ModelCall['id'] | null = null;
    spec.calls.forEach((plan, index) => {
      const reply: AssistantMessage = { role: 'assistant', content: plan.content ?? 'ok', toolCalls: [] };
      const call = syntheticCall({
        runId: HOSTILE_RUN,
        rolloutId,
        index,
        parentId,
        messages,
        reply,
        promptIds: plan.prompt,
        completionIds: plan.completion,
        temperature: plan.temperature ?? 1,
        ...(plan.logprobs ? { logprobs: plan.logprobs } : {}),
        ...(plan.policyVersion === undefined ? {} : { policyVersion: plan.policyVersion }),
        ...(plan.finishReason ? { finishReason: plan.finishReason } : {}),
      });
      recorder.modelCall(call);
      parentId = call.id;
      messages = [...messages, reply, { role: 'user', content: 'More.' }];
    });
    store.commitRollout(storedRollout({ id: rolloutId, runId: HOSTILE_RUN, taskId: 'keys/a', groupId: 'g', epoch, score: spec.score ?? epoch % 2, ...spec.rollout }));
  });
  return store;
}
