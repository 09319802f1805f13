// Stores filled fast by writing records straight through the store: a long trajectory and a large
// run, for the latency bench and the tests that need sizes no real run here would produce quickly.
import {
  GAUNTLET_VERSION,
  modelCallIdFor,
  rolloutIdFor,
  RunConfig,
  SCHEMA_VERSION,
  Task,
  type Message,
  type ModelCall,
  type Rollout,
  type RolloutId,
  type RunId,
  type Store,
} from '../core/index.ts';

const BASH = { name: 'bash', description: 'Run a shell command.', parameters: { type: 'object', properties: { command: { type: 'string' } }, required: ['command'] } };

function syntheticTask(id: string): Task {
  return Task.parse({
    id,
    env: 'terminal',
    instruction: `Synthetic task ${id}: tidy the logs folder.`,
    verifier: { checks: [] },
    golden: { steps: [] },
    tags: { domain: 'synthetic', difficulty: 'easy' },
  });
}

function createSyntheticRun(store: Store, options: { runId: string; tasks: number; epochs: number; createdAt: Date }): { runId: RunId; tasks: Task[] } {
  const runId = options.runId as RunId;
  const tasks = Array.from({ length: options.tasks }, (_, i) => syntheticTask(`synthetic/task-${String(i).padStart(4, '0')}`));
  const config = RunConfig.parse({ envs: ['terminal'], model: 'scripted:synthetic', epochs: options.epochs, concurrency: 1, seed: 0, sandbox: 'virtual' });
  store.createRun({ schemaVersion: SCHEMA_VERSION, id: runId, createdAt: options.createdAt.toISOString(), gauntletVersion: GAUNTLET_VERSION, config, status: 'finished', finishedAt: options.createdAt.toISOString() }, tasks);
  return { runId, tasks };
}

function rolloutRecord(options: { runId: RunId; taskId: string; epoch: number; passed: boolean; turns: number; at: Date }): Rollout {
  const at = options.at.toISOString();
  return {
    schemaVersion: SCHEMA_VERSION,
    id: rolloutIdFor(options.runId, options.taskId, options.epoch),
    runId: options.runId,
    taskId: options.taskId as Rollout['taskId'],
    env: 'terminal',
    epoch: options.epoch,
    groupId: `${options.taskId}#${Math.floor(options.epoch / 2)}`,
    attempt: 1,
    seed: options.epoch,
    model: 'scripted:synthetic',
    scaffold: 'interleaved',
    status: 'scored',
    terminationReason: 'answered',
    score: options.passed ? 1 : 0,
    passed: options.passed,
    rewardTerms: [{ name: 'verifier', value: options.passed ? 1 : 0, weight: 1, source: 'verifier' }],
    verifier: { passed: options.passed, score: options.passed ? 1 : 0, checks: [{ name: 'logs tidied', kind: 'outcome', passed: options.passed }] },
    error: null,
    finalAnswer: 'Done.',
    stats: { turns: options.turns, modelCalls: options.turns, toolCalls: Math.max(0, options.turns - 1), toolErrors: 0, promptTokens: 0, completionTokens: 0 },
    perturbations: [],
    startedAt: at,
    endedAt: at,
    durationMs: 1000 + options.epoch,
  };
}

/** A run of `tasks` × `epochs` scored rollouts (rows only, no trajectories), every third one failed. */
export function writeLargeRun(store: Store, options: { runId: string; tasks: number; epochs: number; now?: Date }): RunId {
  const at = options.now ?? new Date('2025-01-01T00:00:00Z');
  const { runId, tasks } = createSyntheticRun(store, { runId: options.runId, tasks: options.tasks, epochs: options.epochs, createdAt: at });
  let n = 0;
  for (const task of tasks) {
    for (let epoch = 0; epoch < options.epochs; epoch++) store.commitRollout(rolloutRecord({ runId, taskId: task.id, epoch, passed: n++ % 3 !== 0, turns: 3, at }));
  }
  return runId;
}

/**
 * One rollout of `turns` model calls, each a bash call answered by its tool result, the last a
 * plain answer. Every prompt extends its parent, as the interleaved scaffold's do.
 */
export function writeLongTrajectory(store: Store, options: { runId: string; turns: number; now?: Date }): RolloutId {
  const at = options.now ?? new Date('2025-01-01T00:00:00Z');
  const { runId, tasks } = createSyntheticRun(store, { runId: options.runId, tasks: 1, epochs: 1, createdAt: at });
  const task = tasks[0]!;
  const rolloutId = rolloutIdFor(runId, task.id, 0);
  const recorder = store.recorder({ runId, rolloutId, attempt: 1 });
  const messages: Message[] = [
    { role: 'system', content: 'You are a careful engineer with a shell.' },
    { role: 'user', content: task.instruction },
  ];
  let parentId: ModelCall['parentId'] = null;
  for (let index = 0; index < options.turns; index++) {
    const last = index === options.turns - 1;
    const id = modelCallIdFor(rolloutId, 1, index);
    const command = `ls -la logs/part-${index} && wc -l logs/part-${index}/*.log`;
    const message = {
      role: 'assistant' as const,
      content: last ? 'Done: the logs are tidy.' : `Looking at part ${index}.`,
      reasoning: { text: `Step ${index}: I should inspect part ${index} before moving anything. `.repeat(4), source: 'reasoning_field' as const },
      toolCalls: last ? [] : [{ id: `call_${index}`, name: 'bash', arguments: { command }, argumentsText: JSON.stringify({ command }) }],
    };
    recorder.modelCall({
      schemaVersion: SCHEMA_VERSION,
      id,
      runId,
      rolloutId,
      attempt: 1,
      index,
      parentId,
      extendsParent: parentId !== null,
      purpose: 'turn',
      model: 'scripted:synthetic',
      request: { messages: [...messages], tools: [BASH], sampling: {} },
      response: { message, finishReason: last ? 'stop' : 'tool_calls', usage: { promptTokens: 200 + 150 * index, completionTokens: 120 } },
      startedAt: at.toISOString(),
      latencyMs: 850,
    });
    messages.push(message);
    if (!last) {
      const output = Array.from({ length: 12 }, (_, line) => `-rw-r--r-- 1 agent agent ${1000 + line} Jan  1 00:00 app-${index}-${line}.log`).join('\n');
      recorder.event('tool_call', { id: `call_${index}`, name: 'bash', arguments: JSON.stringify({ command }) });
      recorder.event('tool_result', { id: `call_${index}`, ok: true, content: output });
      messages.push({ role: 'tool', toolCallId: `call_${index}`, name: 'bash', content: output, isError: false });
    }
    parentId = id;
  }
  store.commitRollout({ ...rolloutRecord({ runId, taskId: task.id, epoch: 0, passed: true, turns: options.turns, at }), id: rolloutId });
  return rolloutId;
}
