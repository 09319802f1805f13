import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { engineArithmetic, trainerArithmetic } from './arithmetic.ts';
import { createCache, decoderStep, initDecoder, type DecoderConfig } from './decoder.ts';
import { runPrecisionDemo } from './demo.ts';
import { comparePrecision } from './metrics.ts';

const TINY: DecoderConfig = { layers: 2, dModel: 32, heads: 2, dFF: 64, vocab: 256, maxLength: 20, logitScale: 6 };

describe('precision demo', () => {
  it('gives the same figures for the same seed and different ones for another', () => {
    const run = (seed: number) => runPrecisionDemo({ seed, model: TINY, sequences: 3, promptLength: 4 });
    const first = run(5);
    assert.deepEqual(run(5), first);
    assert.notEqual(run(6).runs[0]?.stats.meanAbsDelta, first.runs[0]?.stats.meanAbsDelta);
    assert.equal(first.runs[0]?.stats.tokens, 3 * (TINY.maxLength - 4));
  });

  it('runs both paths on identical bf16 numbers: the same arithmetic gives bit-identical states', () => {
    const weights = initDecoder(TINY, 1);
    const hidden = (arithmetic: ReturnType<typeof trainerArithmetic>) => {
      const cache = createCache(TINY);
      return [3, 1, 4, 1, 5].map((token, position) => decoderStep({ weights, arithmetic, cache, token, position }));
    };
    assert.deepEqual(hidden(trainerArithmetic()), hidden(trainerArithmetic()));
    const engine = hidden(engineArithmetic({ head: 'bf16', chunk: 16 }));
    assert.notDeepEqual(engine, hidden(trainerArithmetic()), 'accumulation order alone moves the hidden states');
  });

  it('shows the fp32 LM head narrowing the mismatch, and where in the layers the gap opens (seed 1)', { timeout: 120_000 }, () => {
    const demo = runPrecisionDemo({ seed: 1 });
    const [bf16, fp32] = demo.runs;
    assert.ok(bf16 && fp32);
    assert.deepEqual([bf16.head, fp32.head], ['bf16', 'fp32']);
    assert.equal(bf16.stats.tokens, 16 * 56);
    assert.ok(fp32.stats.meanAbsDelta! < bf16.stats.meanAbsDelta!, `mean |Δ|: fp32 ${fp32.stats.meanAbsDelta} vs bf16 ${bf16.stats.meanAbsDelta}`);
    assert.ok(fp32.stats.k3! < bf16.stats.k3!, `k3: fp32 ${fp32.stats.k3} vs bf16 ${bf16.stats.k3}`);
    assert.ok(demo.narrowing.meanAbsDelta! > 1.2 && demo.narrowing.k3! > 1.5, JSON.stringify(demo.narrowing));
    assert.ok(fp32.stats.pearson! > bf16.stats.pearson!);
    // The embedding lookup has no sum, so both paths agree there; every sum after it widens the gap.
    const body = bf16.layers.slice(0, -1);
    assert.equal(body[0]?.name, 'embedding');
    assert.equal(body[0]?.relativeL2, 0);
    assert.ok((body[1]?.relativeL2 ?? 0) > 0, 'the gap opens at the first attention block');
    assert.ok((body.at(-1)?.relativeL2 ?? 0) > 2 * (body[1]?.relativeL2 ?? 0), 'and grows through the layers');
    assert.equal(bf16.layers.at(-1)?.name, 'logits (bf16 head)');
    assert.equal(fp32.layers.at(-1)?.name, 'logits (fp32 head)');
    // The sampled sequences are the report's input: recomputing from them gives the same figures.
    const again = comparePrecision(bf16.sequences.map((s) => ({ id: s.id, tokenIds: s.tokenIds, inference: s.inference, trainer: s.trainer, compare: s.mask })));
    assert.deepEqual(again, bf16.stats);
    assert.ok(bf16.sequences.every((s) => s.inference.every((lp) => lp <= 0) && s.trainer.every((lp) => lp <= 0)));
  });
});
