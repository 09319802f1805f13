// The built-in demonstration: one bf16 decoder, run by an "engine" and a "trainer" that differ only
// in how they accumulate sums. The engine samples sequences; both score the sampled tokens; the
// same report as for real files follows, once with a bf16 LM head and once with an fp32 one, plus a
// layer-by-layer view of where the two paths' hidden states part.
import { createRng } from '../../core/index.ts';
import { engineArithmetic, trainerArithmetic, type Arithmetic, type HeadPrecision } from './arithmetic.ts';
import { checkpointNames, createCache, decoderStep, DEMO_DECODER, initDecoder, lmHead, logSumExp, type DecoderCache, type DecoderConfig, type DecoderWeights } from './decoder.ts';
import { PrecisionAccumulator, type PrecisionStats } from './metrics.ts';

export interface DemoOptions {
  seed: number;
  /** Sequences sampled per head configuration (default 16). */
  sequences?: number;
  /** Random prompt tokens before sampling starts; they are not compared (default 8). */
  promptLength?: number;
  model?: DecoderConfig;
  /** Worst tokens/sequences kept in each report (default 10). */
  top?: number;
}

/** How far the engine's hidden state is from the trainer's at one point of the forward pass. */
export interface LayerDivergence {
  name: string;
  /** ‖engine − trainer‖ / ‖trainer‖ over every position's vector (sampled positions only for logits). */
  relativeL2: number;
  maxAbsDiff: number;
  /** Fraction of elements that are not identical. */
  differing: number;
}

export interface DemoRun {
  head: HeadPrecision;
  stats: PrecisionStats;
  layers: LayerDivergence[];
  /** The sampled sequences with both paths' logprobs, in the file input's shape. */
  sequences: { id: string; tokenIds: number[]; inference: number[]; trainer: number[]; mask: number[] }[];
}

export interface DemoResult {
  kind: 'precision-demo';
  seed: number;
  model: DecoderConfig;
  sequences: number;
  promptLength: number;
  arithmetic: { engine: string; trainer: string };
  runs: DemoRun[];
  /** bf16-head figure ÷ fp32-head figure: how many times the fp32 head narrows the mismatch. */
  narrowing: { meanAbsDelta: number | null; k3: number | null; maxAbsDelta: number | null };
}

const SPLIT_CHUNK = 16;

class DivergenceSums {
  diff2 = 0;
  ref2 = 0;
  max = 0;
  differing = 0;
  elements = 0;
  add(engine: ArrayLike<number>, trainer: ArrayLike<number>): void {
    for (let i = 0; i < trainer.length; i++) {
      const a = engine[i] as number;
      const b = trainer[i] as number;
      const diff = Math.abs(a - b);
      this.diff2 += diff * diff;
      this.ref2 += b * b;
      if (diff > this.max) this.max = diff;
      if (a !== b) this.differing++;
    }
    this.elements += trainer.length;
  }
  result(name: string): LayerDivergence {
    return { name, relativeL2: this.ref2 > 0 ? Math.sqrt(this.diff2 / this.ref2) : 0, maxAbsDiff: this.max, differing: this.elements > 0 ? this.differing / this.elements : 0 };
  }
}

/** Inverse-CDF sampling from softmax(logits) with one uniform draw. */
function sample(logits: Float32Array, options: { logSumExp: number; u: number }): number {
  const { u } = options;
  let cumulative = 0;
  let last = 0;
  for (let i = 0; i < logits.length; i++) {
    const p = Math.exp((logits[i] as number) - options.logSumExp);
    if (p === 0) continue;
    cumulative += p;
    last = i;
    if (u < cumulative) return i;
  }
  return last;
}

/**
 * One path's decoder body over one sequence, kept by position. The two head configurations share
 * the body arithmetic and draw the same uniforms, so they usually sample the same prefix: the second
 * reuses the first's work up to the first token where they differ, then continues on the same cache
 * (entries before that position are for the same tokens; later ones are overwritten before use).
 */
class BodyPass {
  private readonly cache: DecoderCache;
  private readonly tokens: number[] = [];
  private readonly outputs: { hidden: Float32Array; trace: Float32Array[] }[] = [];
  constructor(
    private readonly weights: DecoderWeights,
    private readonly arithmetic: Arithmetic,
  ) {
    this.cache = createCache(weights.config);
  }

  /** The final hidden state and checkpoint trace at `position` of the sequence `tokens`. */
  step(tokens: readonly number[], position: number): { hidden: Float32Array; trace: Float32Array[] } {
    const token = tokens[position] as number;
    const kept = this.outputs[position];
    if (kept && this.tokens[position] === token) return kept;
    this.tokens.length = position;
    this.outputs.length = position;
    const trace: Float32Array[] = [];
    const hidden = decoderStep({ weights: this.weights, arithmetic: this.arithmetic, cache: this.cache, token, position, trace });
    this.tokens.push(token);
    this.outputs.push({ hidden, trace });
    return { hidden, trace };
  }
}

/** Everything one head configuration accumulates over the sequences. */
class HeadRun {
  readonly engine: Arithmetic;
  readonly trainer = trainerArithmetic();
  readonly body: DivergenceSums[];
  readonly logits = new DivergenceSums();
  readonly accumulator: PrecisionAccumulator;
  readonly sequences: DemoRun['sequences'] = [];
  constructor(
    readonly head: HeadPrecision,
    options: { checkpoints: number; top: number },
  ) {
    this.engine = engineArithmetic({ head, chunk: SPLIT_CHUNK });
    this.body = Array.from({ length: options.checkpoints }, () => new DivergenceSums());
    this.accumulator = new PrecisionAccumulator({ top: options.top });
  }
}

function sampleSequence(options: { weights: DecoderWeights; run: HeadRun; passes: { engine: BodyPass; trainer: BodyPass }; seed: number; index: number; promptLength: number }): void {
  const { weights, run, passes, seed, index, promptLength } = options;
  const { maxLength, vocab } = weights.config;
  // Every configuration draws the same prompt and the same uniforms, so they differ only where their engines' distributions do.
  const rng = createRng(`precision-demo:${seed}:sequence:${index}`);
  const tokenIds = Array.from({ length: promptLength }, () => rng.int(0, vocab));
  const inference = new Array<number>(maxLength).fill(0);
  const trained = new Array<number>(maxLength).fill(0);
  const mask = new Array<number>(maxLength).fill(0);
  for (let pos = 0; pos + 1 < maxLength; pos++) {
    const engine = passes.engine.step(tokenIds, pos);
    const trainer = passes.trainer.step(tokenIds, pos);
    run.body.forEach((sums, i) => sums.add(engine.trace[i] as Float32Array, trainer.trace[i] as Float32Array));
    if (pos + 1 < promptLength) continue;
    const engineLogits = lmHead({ weights, arithmetic: run.engine, hidden: engine.hidden, precision: run.head });
    const trainerLogits = lmHead({ weights, arithmetic: run.trainer, hidden: trainer.hidden, precision: run.head });
    run.logits.add(engineLogits, trainerLogits);
    const engineLse = logSumExp(engineLogits);
    const next = sample(engineLogits, { logSumExp: engineLse, u: rng.next() });
    tokenIds.push(next);
    inference[pos + 1] = (engineLogits[next] as number) - engineLse;
    trained[pos + 1] = (trainerLogits[next] as number) - logSumExp(trainerLogits);
    mask[pos + 1] = 1;
  }
  const id = `demo-${seed}-${index}`;
  run.accumulator.add({ id, tokenIds, inference, trainer: trained, compare: mask });
  run.sequences.push({ id, tokenIds, inference, trainer: trained, mask });
}

function ratio(a: number | null, b: number | null): number | null {
  return a === null || b === null || b === 0 ? null : a / b;
}

/** Runs the experiment for a bf16 and an fp32 LM head on the same seeded model. Deterministic for a seed. */
export function runPrecisionDemo(options: DemoOptions): DemoResult {
  const model = options.model ?? DEMO_DECODER;
  const promptLength = options.promptLength ?? 8;
  const sequences = options.sequences ?? 16;
  if (promptLength < 1 || promptLength >= model.maxLength) throw new Error(`promptLength must be in [1, ${model.maxLength - 1}]`);
  const weights = initDecoder(model, options.seed);
  const names = checkpointNames(model);
  const headRuns = (['bf16', 'fp32'] as const).map((head) => new HeadRun(head, { checkpoints: names.length, top: options.top ?? 10 }));
  const [bf16Run] = headRuns as [HeadRun, HeadRun];
  for (let index = 0; index < sequences; index++) {
    // The body's arithmetic does not depend on the head, so one pass per path serves both configurations.
    const passes = { engine: new BodyPass(weights, bf16Run.engine), trainer: new BodyPass(weights, bf16Run.trainer) };
    for (const run of headRuns) sampleSequence({ weights, run, passes, seed: options.seed, index, promptLength });
  }
  const runs: DemoRun[] = headRuns.map((run) => ({
    head: run.head,
    stats: run.accumulator.result(),
    layers: [...names.map((name, i) => (run.body[i] as DivergenceSums).result(name)), run.logits.result(`logits (${run.head} head)`)],
    sequences: run.sequences,
  }));
  const [bf16, fp32] = runs as [DemoRun, DemoRun];
  return {
    kind: 'precision-demo',
    seed: options.seed,
    model,
    sequences,
    promptLength,
    arithmetic: {
      engine: `split-K GEMMs: chunks of ${SPLIT_CHUNK} summed in fp32, partial sums stored in bf16 (fp32 in an fp32 head) and added last chunk first; other reductions in the same chunked order in fp32`,
      trainer: 'every sum accumulated front to back in one fp32 register',
    },
    runs,
    narrowing: {
      meanAbsDelta: ratio(bf16.stats.meanAbsDelta, fp32.stats.meanAbsDelta),
      k3: ratio(bf16.stats.k3, fp32.stats.k3),
      maxAbsDelta: ratio(bf16.stats.maxAbsDelta, fp32.stats.maxAbsDelta),
    },
  };
}
