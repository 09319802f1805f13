// What composing a reward costs per rollout, on the detectors' synthetic 100-turn coding session:
// the in-memory trace kept while recording, then the terms, for configs from the default (verifier
// only) up to every rule detector and a rubric graded three times by an in-process judge (so the
// figure is our overhead, not a model's latency).
import { nullRecorder, type AttemptRecorder, type JsonObject } from '../core/index.ts';
import { createScriptedModel } from '../model/index.ts';
import { composeReward } from './compose.ts';
import { DEFAULT_REWARD_CONFIG, needs, parseRewardConfig, type RewardConfig } from './config.ts';
import { syntheticSession } from './detectors/index.ts';
import { traceAttempt } from './trace.ts';

export interface RewardBenchOptions {
  turns?: number;
  /** Timed repetitions per config after three warm-up rounds. */
  repeats?: number;
}

export interface RewardBenchCase {
  config: string;
  terms: number;
  /** Median wall-clock milliseconds per rollout: replaying its records through the trace, then composing. */
  wallMs: number;
  /** Mean CPU milliseconds (user + system) of the same. */
  cpuMs: number;
  reward: number;
}

export interface RewardBenchResult {
  turns: number;
  cases: RewardBenchCase[];
}

const RUBRIC = { id: 'bench', version: 1, criteria: [{ id: 'plan', description: 'Works to a plan.', scale: { min: 1, max: 5 } }, { id: 'care', description: 'Checks its work.', scale: { min: 1, max: 5 } }] };

const CONFIGS: Record<string, JsonObject> = {
  process: { terms: { outcome: { weight: 1 }, tool_errors: { weight: -0.1 }, repeated_calls: { weight: -0.05 }, useless_calls: { weight: -0.05 }, turns: { weight: -0.001 }, duration: { weight: -0.001 } } },
  detectors: {
    terms: {
      outcome: { weight: 1 },
      useless_calls: { weight: -0.05 },
      'detector.test_tampering': { weight: -1, gate: true },
      'detector.answer_mining': { weight: -1, gate: true },
      'detector.hardcoded_output': { weight: -1 },
      'detector.dangerous_command': { weight: -1, minSeverity: 'medium' },
      'detector.sandbox_probing': { weight: -0.5 },
      'detector.false_success_claim': { weight: -0.5 },
      'detector.prompt_injection_followed': { weight: -1 },
      'detector.exfiltration': { weight: -1, gate: true },
    },
  },
  rubric: { terms: { outcome: { weight: 1 }, rubric: { weight: 0.5, rubric: RUBRIC, samples: 3 } } },
};

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

export async function benchRewardComposition(options: RewardBenchOptions = {}): Promise<RewardBenchResult> {
  const turns = options.turns ?? 100;
  const repeats = options.repeats ?? 20;
  const { rollout, records } = syntheticSession(turns);
  const identity = { runId: rollout.runId, rolloutId: rollout.id, attempt: rollout.attempt };
  const judge = createScriptedModel({ turns: [{ content: JSON.stringify({ scores: [{ criterion: 'plan', score: 4, reason: 'It plans.' }, { criterion: 'care', score: 5, reason: 'It re-runs the tests.' }] }) }] }, 'bench-judge');
  const configs: [string, RewardConfig][] = [['default', DEFAULT_REWARD_CONFIG], ...Object.entries(CONFIGS).map(([name, raw]): [string, RewardConfig] => [name, parseRewardConfig(raw, `bench ${name}`)])];
  const cases: RewardBenchCase[] = [];
  for (const [name, config] of configs) {
    const wall: number[] = [];
    const cpu: number[] = [];
    let reward = 0;
    for (let i = 0; i < 3 + repeats; i++) {
      const started = performance.now();
      const usage = process.cpuUsage();
      const inner: AttemptRecorder = { ...nullRecorder, seal: () => {}, sealed: false };
      let clock = 0;
      const { recorder, trace } = traceAttempt(inner, { identity, now: () => (clock += 10), keepCalls: needs(config).trajectory });
      for (const record of records) {
        if ('call' in record) recorder.modelCall(record.call);
        else record.event(recorder);
      }
      reward = (await composeReward(rollout, { config, trace, judge })).reward;
      const used = process.cpuUsage(usage);
      if (i >= 3) {
        wall.push(performance.now() - started);
        cpu.push((used.user + used.system) / 1000);
      }
    }
    cases.push({ config: name, terms: config.terms.length, wallMs: median(wall), cpuMs: cpu.reduce((a, b) => a + b, 0) / cpu.length, reward });
  }
  return { turns, cases };
}
