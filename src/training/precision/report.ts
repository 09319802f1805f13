// The file comparison end to end: pair the two files, accumulate, and decode the worst tokens'
// context when a tokenizer is at hand.
import { InputError } from '../../core/index.ts';
import { TokenizerInputError, type Tokenizer } from '../../formats/index.ts';
import { pairFiles, type PairingSummary, type PrecisionFiles } from './input.ts';
import { PrecisionAccumulator, type MetricOptions, type PrecisionStats } from './metrics.ts';

export interface FilePrecisionReport {
  kind: 'precision';
  inputs: PairingSummary;
  stats: PrecisionStats;
}

/** Compares per-token logprobs of `files.inference` (the engine) with `files.trainer`, streaming both. */
export async function compareFiles(files: PrecisionFiles, options: MetricOptions & { tokenizer?: Tokenizer } = {}): Promise<FilePrecisionReport> {
  const accumulator = new PrecisionAccumulator(options);
  const inputs = await pairFiles(files, (sequence) => accumulator.add(sequence));
  if (inputs.matched === 0) {
    throw new InputError(files.trainer, `no sequence id in common with ${files.inference} (${inputs.onlyInInference.count} ids there, ${inputs.onlyInTrainer.count} here)`, 'lines of the same sequences, matched by "id"');
  }
  const stats = accumulator.result();
  if (stats.tokens === 0) {
    const noLogprobs = inputs.withoutLogprobs.count > 0 ? ` (${inputs.withoutLogprobs.count} of them hold no logprobs: the engine returned none for their calls)` : '';
    throw new InputError(files.trainer, `the ${inputs.matched} matched sequences have no position that both files mark as compared${noLogprobs}`, 'mask 1 (or no mask) on the sampled tokens in both files, and logprobs on both sides');
  }
  if (options.tokenizer) decodeWorst(stats, options.tokenizer);
  return { kind: 'precision', inputs, stats };
}

/** Adds decoded text to each worst token and its neighbours, in place. */
export function decodeWorst(stats: PrecisionStats, tokenizer: Tokenizer): void {
  for (const token of stats.worst) {
    try {
      token.text = { before: tokenizer.decode(token.before), token: tokenizer.decode([token.tokenId]), after: tokenizer.decode(token.after) };
    } catch (error) {
      // Ids this tokenizer does not have: the files came from another model's.
      if (error instanceof TokenizerInputError) throw Object.assign(new InputError('--tokenizer', `cannot decode the sequences' ids: ${error.message}`, 'the tokenizer of the model that produced these ids'), { cause: error });
      throw error;
    }
  }
}
