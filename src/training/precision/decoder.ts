// A small decoder-only transformer (pre-norm, RMSNorm, rotary attention, SwiGLU MLP) whose weights
// and activations are bfloat16: every op's output is rounded to bf16, as a bf16 model's tensors
// are. Decoding is incremental with a key/value cache. Each op's arithmetic is identical in both
// paths except the sums, which go through the path's `Arithmetic`.
import { createRng, type Rng } from '../../core/index.ts';
import type { Accumulation, Arithmetic, HeadPrecision } from './arithmetic.ts';
import { roundBf16, roundBf16Array } from './bf16.ts';

export interface DecoderConfig {
  layers: number;
  dModel: number;
  heads: number;
  /** Width of the MLP's hidden layer. */
  dFF: number;
  vocab: number;
  /** Longest sequence the cache holds. */
  maxLength: number;
  /** Standard deviation of the logits at init: how peaked the next-token distributions are. */
  logitScale: number;
}

/** Sized so the demo's four forward passes finish in a few seconds of plain JavaScript. */
export const DEMO_DECODER: DecoderConfig = { layers: 4, dModel: 64, heads: 4, dFF: 192, vocab: 2048, maxLength: 64, logitScale: 6 };

interface LayerWeights {
  attentionNorm: Float32Array;
  /** [out][in] row-major, as torch.nn.Linear stores them. */
  wq: Float32Array;
  wk: Float32Array;
  wv: Float32Array;
  wo: Float32Array;
  mlpNorm: Float32Array;
  wGate: Float32Array;
  wUp: Float32Array;
  wDown: Float32Array;
}

export interface DecoderWeights {
  config: DecoderConfig;
  embedding: Float32Array;
  layers: LayerWeights[];
  finalNorm: Float32Array;
  head: Float32Array;
  /** Rotary cos/sin per position and frequency, shared by every layer. */
  rotary: { cos: Float32Array; sin: Float32Array };
}

function gaussian(rng: Rng): number {
  // Box–Muller; 1 − u keeps the log away from 0.
  const u = 1 - rng.next();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.next());
}

function randomBf16(rng: Rng, size: number, std: number): Float32Array {
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) out[i] = gaussian(rng) * std;
  return roundBf16Array(out);
}

/**
 * Seeded random weights with the usual scaled init: projections ~ N(0, 1/fan_in), the two outputs
 * that write into the residual stream further scaled by 1/√(2·layers), and an LM head giving logits
 * of standard deviation `logitScale` so that sampled tokens span confident and uncertain ones.
 */
export function initDecoder(config: DecoderConfig, seed: number | string): DecoderWeights {
  const { dModel: d, dFF: ff, vocab, layers, heads, maxLength } = config;
  if (d % heads !== 0 || (d / heads) % 2 !== 0) throw new Error(`dModel ${d} must split into ${heads} heads of even width`);
  const rng = createRng(`decoder:${seed}`);
  const residual = 1 / Math.sqrt(2 * layers);
  const ones = (n: number) => new Float32Array(n).fill(1);
  const headDim = d / heads;
  const half = headDim / 2;
  const cos = new Float32Array(maxLength * half);
  const sin = new Float32Array(maxLength * half);
  for (let pos = 0; pos < maxLength; pos++) {
    for (let i = 0; i < half; i++) {
      const angle = pos / 10000 ** ((2 * i) / headDim);
      cos[pos * half + i] = Math.cos(angle);
      sin[pos * half + i] = Math.sin(angle);
    }
  }
  return {
    config,
    embedding: randomBf16(rng, vocab * d, 1),
    layers: Array.from({ length: layers }, () => ({
      attentionNorm: ones(d),
      wq: randomBf16(rng, d * d, 1 / Math.sqrt(d)),
      wk: randomBf16(rng, d * d, 1 / Math.sqrt(d)),
      wv: randomBf16(rng, d * d, 1 / Math.sqrt(d)),
      wo: randomBf16(rng, d * d, residual / Math.sqrt(d)),
      mlpNorm: ones(d),
      wGate: randomBf16(rng, ff * d, 1 / Math.sqrt(d)),
      wUp: randomBf16(rng, ff * d, 1 / Math.sqrt(d)),
      wDown: randomBf16(rng, d * ff, residual / Math.sqrt(ff)),
    })),
    finalNorm: ones(d),
    head: randomBf16(rng, vocab * d, config.logitScale / Math.sqrt(d)),
    rotary: { cos: roundBf16Array(cos), sin: roundBf16Array(sin) },
  };
}

/** One path's key/value cache: keys [position][dModel], values transposed [dModel][position] so both attention sums run over contiguous memory. */
export interface DecoderCache {
  keys: Float32Array[];
  values: Float32Array[];
}

export function createCache(config: DecoderConfig): DecoderCache {
  const size = config.maxLength * config.dModel;
  return {
    keys: Array.from({ length: config.layers }, () => new Float32Array(size)),
    values: Array.from({ length: config.layers }, () => new Float32Array(size)),
  };
}

/** Names of the hidden states `decoderStep` can record, in order: after the embedding, each sub-block and the final norm. */
export function checkpointNames(config: DecoderConfig): string[] {
  const names = ['embedding'];
  for (let l = 1; l <= config.layers; l++) names.push(`layer ${l} attention`, `layer ${l} MLP`);
  names.push('final norm');
  return names;
}

/** A bf16 linear layer: the path's GEMM, each output rounded to bf16. */
function linear(options: { w: Float32Array; rows: number; cols: number; x: Float32Array; gemm: Accumulation }): Float32Array {
  const { w, rows, cols, x } = options;
  const out = new Float32Array(rows);
  options.gemm.gemv({ w, rows, cols, x, out });
  for (let r = 0; r < rows; r++) out[r] = roundBf16(out[r]!);
  return out;
}

function rmsNorm(x: Float32Array, gain: Float32Array, arithmetic: Arithmetic): Float32Array {
  const n = x.length;
  const meanSquare = Math.fround(arithmetic.reduce.dot(x, 0, x, 0, n) / n);
  const scale = Math.fround(1 / Math.sqrt(Math.fround(meanSquare + 1e-6)));
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = roundBf16(Math.fround(x[i]! * scale) * gain[i]!);
  return out;
}

function addInto(x: Float32Array, delta: Float32Array): void {
  for (let i = 0; i < x.length; i++) x[i] = roundBf16(x[i]! + delta[i]!);
}

function rotate(x: Float32Array, options: { weights: DecoderWeights; position: number }): void {
  const { heads, dModel } = options.weights.config;
  const headDim = dModel / heads;
  const half = headDim / 2;
  const { cos, sin } = options.weights.rotary;
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < half; i++) {
      const a = h * headDim + i;
      const b = a + half;
      const c = cos[options.position * half + i]!;
      const s = sin[options.position * half + i]!;
      const xa = x[a]!;
      const xb = x[b]!;
      x[a] = roundBf16(Math.fround(xa * c) - Math.fround(xb * s));
      x[b] = roundBf16(Math.fround(xb * c) + Math.fround(xa * s));
    }
  }
}

export interface StepOptions {
  weights: DecoderWeights;
  arithmetic: Arithmetic;
  cache: DecoderCache;
  token: number;
  position: number;
  /** When given, receives a copy of each hidden state named by `checkpointNames`, by index. */
  trace?: Float32Array[];
}

/** Runs one token through the decoder, extending the cache; returns the final normed hidden state (bf16). */
export function decoderStep(options: StepOptions): Float32Array {
  const { weights, arithmetic, cache, position, trace } = options;
  const { dModel: d, dFF: ff, heads, maxLength } = weights.config;
  if (position >= maxLength) throw new Error(`position ${position} is past the cache (maxLength ${maxLength})`);
  const headDim = d / heads;
  const scale = 1 / Math.sqrt(headDim);
  const length = position + 1;
  const ones = new Float32Array(length).fill(1);
  const x = weights.embedding.slice(options.token * d, (options.token + 1) * d);
  let checkpoint = 0;
  const record = (h: Float32Array) => {
    if (trace) trace[checkpoint] = h.slice();
    checkpoint++;
  };
  record(x);
  weights.layers.forEach((layer, l) => {
    const keys = cache.keys[l]!;
    const values = cache.values[l]!;
    let h = rmsNorm(x, layer.attentionNorm, arithmetic);
    const q = linear({ w: layer.wq, rows: d, cols: d, x: h, gemm: arithmetic.gemm });
    const k = linear({ w: layer.wk, rows: d, cols: d, x: h, gemm: arithmetic.gemm });
    const v = linear({ w: layer.wv, rows: d, cols: d, x: h, gemm: arithmetic.gemm });
    rotate(q, { weights, position });
    rotate(k, { weights, position });
    keys.set(k, position * d);
    for (let j = 0; j < d; j++) values[j * maxLength + position] = v[j]!;
    const attended = new Float32Array(d);
    const scores = new Float32Array(length);
    const probs = new Float32Array(length);
    for (let head = 0; head < heads; head++) {
      const offset = head * headDim;
      let max = -Infinity;
      for (let t = 0; t < length; t++) {
        scores[t] = Math.fround(arithmetic.reduce.dot(q, offset, keys, t * d + offset, headDim) * scale);
        if (scores[t]! > max) max = scores[t]!;
      }
      for (let t = 0; t < length; t++) scores[t] = Math.fround(Math.exp(scores[t]! - max));
      const sum = arithmetic.reduce.dot(scores, 0, ones, 0, length);
      for (let t = 0; t < length; t++) probs[t] = roundBf16(scores[t]! / sum);
      for (let j = offset; j < offset + headDim; j++) attended[j] = roundBf16(arithmetic.reduce.dot(probs, 0, values, j * maxLength, length));
    }
    addInto(x, linear({ w: layer.wo, rows: d, cols: d, x: attended, gemm: arithmetic.gemm }));
    record(x);
    h = rmsNorm(x, layer.mlpNorm, arithmetic);
    const gate = linear({ w: layer.wGate, rows: ff, cols: d, x: h, gemm: arithmetic.gemm });
    const up = linear({ w: layer.wUp, rows: ff, cols: d, x: h, gemm: arithmetic.gemm });
    const inner = new Float32Array(ff);
    for (let i = 0; i < ff; i++) {
      const g = gate[i]!;
      inner[i] = roundBf16(roundBf16(g / (1 + Math.exp(-g))) * up[i]!);
    }
    addInto(x, linear({ w: layer.wDown, rows: d, cols: ff, x: inner, gemm: arithmetic.gemm }));
    record(x);
  });
  const out = rmsNorm(x, weights.finalNorm, arithmetic);
  record(out);
  return out;
}

/** The LM head: logits from the final hidden state, rounded to bf16 for a bf16 head, float32 for an fp32 one. */
export function lmHead(options: { weights: DecoderWeights; arithmetic: Arithmetic; hidden: Float32Array; precision: HeadPrecision }): Float32Array {
  const { weights, hidden } = options;
  const logits = new Float32Array(weights.config.vocab);
  options.arithmetic.head.gemv({ w: weights.head, rows: weights.config.vocab, cols: weights.config.dModel, x: hidden, out: logits });
  // gemv's sums are already float32; a bf16 head stores its logits in bf16 before the softmax.
  return options.precision === 'bf16' ? roundBf16Array(logits) : logits;
}

/** log Σ exp(z) in float64, the same function for both paths; a token's logprob is z − logSumExp. */
export function logSumExp(logits: Float32Array): number {
  let max = -Infinity;
  for (const z of logits) if (z > max) max = z;
  let sum = 0;
  for (const z of logits) sum += Math.exp(z - max);
  return max + Math.log(sum);
}
