// Training/inference precision: how far a trainer's logprobs of the sampled tokens are from the
// engine's, from files (`compareFiles`) or from the built-in bf16 demonstration (`runPrecisionDemo`).
export { isBf16, roundBf16, roundBf16Array } from './bf16.ts';
export { engineArithmetic, sequentialFp32, splitK, trainerArithmetic } from './arithmetic.ts';
export type { Accumulation, Arithmetic, HeadPrecision, SplitKOptions } from './arithmetic.ts';
export { DEMO_DECODER, initDecoder } from './decoder.ts';
export type { DecoderConfig } from './decoder.ts';
export { runPrecisionDemo } from './demo.ts';
export type { DemoOptions, DemoResult, DemoRun, LayerDivergence } from './demo.ts';
export { PrecisionLine, pairFiles } from './input.ts';
export type { PairingSummary, PrecisionFiles } from './input.ts';
export { comparePrecision, k3Term, PrecisionAccumulator, PROBABILITY_EDGES } from './metrics.ts';
export type { Bucket, ComparedSequence, MetricOptions, MismatchStats, PrecisionStats, SequenceRow, WorstToken } from './metrics.ts';
export { compareFiles, decodeWorst } from './report.ts';
export type { FilePrecisionReport } from './report.ts';
export { renderDemo, renderPrecisionReport } from './render-text.ts';
export { renderPrecisionSvg } from './svg.ts';
export type { SvgSeries } from './svg.ts';
