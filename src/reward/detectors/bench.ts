// What the rule-based detectors cost next to what storing the trajectory costs: a synthetic
// 100-turn coding session (reasoning, shell commands, file reads and edits with realistic output
// sizes), detected from its model calls versus written as the runner writes it (every model call,
// the tool-call and tool-result events, the lifecycle events) through the recorder and committed.
import {
  modelCallIdFor,
  type RolloutRecorder,
  SCHEMA_VERSION,
  type Message,
  type ModelCall,
  type Rollout,
  type RolloutId,
  type RunId,
  type Store,
  type TaskId,
  type ToolSpec,
} from '../../core/index.ts';
import { detectTrajectory } from './run.ts';
import { trajectoryOf } from './trajectory.ts';

export interface DetectorBenchOptions {
  /** A fresh, empty store for each repetition (the bench writes one rollout into it and closes it). */
  openStore: () => Store;
  turns?: number;
  /** Timed repetitions after three warm-up rounds. */
  repeats?: number;
}

export interface DetectorBenchResult {
  turns: number;
  /** Median wall-clock milliseconds to build the trajectory from its calls and run every rule detector. */
  detectMs: number;
  /** Median wall-clock milliseconds to record every call and event and commit the rollout. */
  storeMs: number;
  /** Mean CPU milliseconds (user + system) of the same two phases. */
  detectCpuMs: number;
  storeCpuMs: number;
  /**
   * detectCpuMs / storeCpuMs, the figure to hold to at most 1. CPU time is used because wall time on a
   * shared machine measures the neighbours; it also leaves out the store's waits on the disk, so
   * it errs against the detectors.
   */
  ratio: number;
  /** detectMs / storeMs, for an idle machine. */
  wallRatio: number;
  /** Flags raised on the synthetic session (it contains none on purpose: the cost of a clean trajectory). */
  flags: number;
}

const AT = '2026-03-10T09:00:00.000Z';
const TOOLS: ToolSpec[] = ['run_command', 'read_file', 'edit_file', 'submit'].map((name) => ({ name, description: `${name} in the repo root (/work)`, parameters: { type: 'object', properties: {} } }));
const SOURCE = Array.from({ length: 40 }, (_, i) => `export function step${i}(input) {\n  return input.map((x) => x * ${i + 2}).filter(Boolean);\n}`).join('\n');
/** Commands as an agent varies them: the same tools on different files and patterns. */
const COMMANDS = [
  (n: number) => `grep -rn "step${n}" src/ | head -20`,
  (n: number) => `node --test test/module${n}.test.js 2>&1 | tail -15`,
  (n: number) => `cat src/module${n}.js`,
  (n: number) => `sed -i 's/x [*] ${n}/x * ${n + 1}/' src/module${n}.js && node --test test/module${n}.test.js`,
  (n: number) => `git diff --stat -- src/module${n}.js && git status --short`,
  (n: number) => `ls -la src test && wc -l src/module${n}.js`,
  (n: number) => `cd /work && rm -rf ./build/module${n} && npm run build -- --only module${n}`,
];

function toolUse(turn: number): { name: string; args: Record<string, string>; result: string } {
  switch (turn % 3) {
    case 0: {
      const command = COMMANDS[turn % COMMANDS.length]!(turn);
      return { name: 'run_command', args: { command }, result: `exit code 0\nstdout:\n${SOURCE.slice(0, 1500)}\n# tests 40\n# pass 40\n# fail 0` };
    }
    case 1:
      return { name: 'read_file', args: { path: `src/module${turn % 7}.js` }, result: SOURCE.slice(0, 2500) };
    default:
      return { name: 'edit_file', args: { path: `src/module${turn % 7}.js`, oldText: SOURCE.slice(0, 200), newText: SOURCE.slice(100, 400) }, result: `Edited src/module${turn % 7}.js: replaced 4 line(s) with 6 at line 12` };
  }
}

/** What the recorder receives, in the order the agent loop and runner send it. */
type Recorded = { call: ModelCall } | { event: (recorder: RolloutRecorder) => void };

/** A clean coding session of `turns` tool-using turns plus a final answer, as the agent loop records it. */
export function syntheticSession(turns: number): { rollout: Rollout; calls: ModelCall[]; records: Recorded[] } {
  const runId = 'run_bench_detectors' as RunId;
  const rolloutId = 'ro_bench_detectors' as RolloutId;
  const history: Message[] = [
    { role: 'system', content: 'You are a software engineer working in a repository at /work.' },
    { role: 'user', content: 'Make every step of the pipeline copy its input instead of mutating it; keep the tests green.' },
  ];
  const calls: ModelCall[] = [];
  const records: Recorded[] = [{ event: (r) => r.event('rollout_started', { taskId: 'bench/pipeline', attempt: 1, scaffold: 'interleaved', model: 'bench' }) }];
  for (let i = 0; i <= turns; i++) {
    const use = i < turns ? toolUse(i) : null;
    const message: Message = {
      role: 'assistant',
      content: use ? '' : 'Every step now copies its input; all 40 tests pass.',
      reasoning: { text: `Turn ${i}: ${SOURCE.slice(i % 50, (i % 50) + 400)}`, source: 'reasoning_content_field' },
      toolCalls: use ? [{ id: `call_${i}`, name: use.name, arguments: use.args, argumentsText: JSON.stringify(use.args) }] : [],
    };
    calls.push({
      schemaVersion: SCHEMA_VERSION,
      id: modelCallIdFor(rolloutId, 1, i),
      runId,
      rolloutId,
      attempt: 1,
      index: i,
      parentId: i === 0 ? null : modelCallIdFor(rolloutId, 1, i - 1),
      extendsParent: i > 0,
      purpose: 'turn',
      model: 'bench',
      request: { messages: [...history], tools: TOOLS, sampling: {} },
      response: { message, finishReason: use ? 'tool_calls' : 'stop', usage: {} },
      startedAt: AT,
      latencyMs: 0,
    });
    records.push({ call: calls.at(-1)! });
    history.push(message);
    if (use) {
      history.push({ role: 'tool', toolCallId: `call_${i}`, name: use.name, content: use.result, isError: false });
      records.push({ event: (r) => r.event('tool_call', { id: `call_${i}`, name: use.name, arguments: JSON.stringify(use.args) }) });
      records.push({ event: (r) => r.event('tool_result', { id: `call_${i}`, ok: true, content: use.result }) });
    }
  }
  records.push({ event: (r) => r.event('rollout_finished', { terminationReason: 'answered', passed: true, checks: [] }) });
  const rollout: Rollout = {
    schemaVersion: SCHEMA_VERSION,
    id: rolloutId,
    runId,
    taskId: 'bench/pipeline' as TaskId,
    env: 'coding',
    epoch: 0,
    attempt: 1,
    seed: 0,
    model: 'bench',
    scaffold: 'interleaved',
    status: 'scored',
    terminationReason: 'answered',
    score: 1,
    passed: true,
    rewardTerms: [],
    verifier: { passed: true, score: 1, checks: [] },
    error: null,
    finalAnswer: 'Every step now copies its input; all 40 tests pass.',
    stats: { turns: calls.length, modelCalls: calls.length, toolCalls: turns, toolErrors: 0, promptTokens: 0, completionTokens: 0 },
    perturbations: [],
    startedAt: AT,
    endedAt: AT,
    durationMs: 0,
  };
  return { rollout, calls, records };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

/** Wall and CPU milliseconds of `work`. */
async function measure(work: () => unknown): Promise<{ wall: number; cpu: number }> {
  const cpu = process.cpuUsage();
  const wall = performance.now();
  await work();
  const used = process.cpuUsage(cpu);
  return { wall: performance.now() - wall, cpu: (used.user + used.system) / 1000 };
}

export async function benchDetectors(options: DetectorBenchOptions): Promise<DetectorBenchResult> {
  const turns = options.turns ?? 100;
  const repeats = options.repeats ?? 20;
  const { rollout, calls, records } = syntheticSession(turns);
  const detect: { wall: number; cpu: number }[] = [];
  const stored: { wall: number; cpu: number }[] = [];
  let flags = 0;
  const warmup = 3;
  for (let i = 0; i < warmup + repeats; i++) {
    const store = options.openStore();
    try {
      const storing = await measure(() => {
        const recorder = store.recorder({ runId: rollout.runId, rolloutId: rollout.id, attempt: rollout.attempt });
        for (const record of records) {
          if ('call' in record) recorder.modelCall(record.call);
          else record.event(recorder);
        }
        store.commitRollout(rollout);
      });
      const detecting = await measure(async () => {
        flags = (await detectTrajectory(trajectoryOf(rollout, calls))).flags.length;
      });
      // The first rounds warm both paths up (the JIT, SQLite's page cache).
      if (i >= warmup) {
        stored.push(storing);
        detect.push(detecting);
      }
    } finally {
      store.close();
    }
  }
  const detectMs = median(detect.map((m) => m.wall));
  const storeMs = median(stored.map((m) => m.wall));
  const detectCpuMs = sum(detect.map((m) => m.cpu)) / detect.length;
  const storeCpuMs = sum(stored.map((m) => m.cpu)) / stored.length;
  return { turns, detectMs, storeMs, detectCpuMs, storeCpuMs, ratio: detectCpuMs / storeCpuMs, wallRatio: detectMs / storeMs, flags };
}
