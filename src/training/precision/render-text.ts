// Terminal text for the file report and the demo. Numbers keep three significant digits; tiny ones
// switch to exponent notation so 1e-5 and 1e-2 are told apart at a glance.
import type { DemoResult } from './demo.ts';
import type { Bucket, PrecisionStats } from './metrics.ts';
import type { FilePrecisionReport } from './report.ts';

export function formatNumber(x: number | null): string {
  if (x === null) return '—';
  if (x === 0) return '0';
  const abs = Math.abs(x);
  if (abs < 1e-3 || abs >= 1e5) return x.toExponential(2).replace('e+', 'e');
  return x.toPrecision(3);
}

function formatRatio(x: number | null): string {
  return x === null ? '—' : `${x.toFixed(2)}×`;
}

function formatCorrelation(x: number | null): string {
  return x === null ? '— (a side is constant)' : x.toFixed(6);
}

function percent(x: number): string {
  return `${(100 * x).toFixed(1)}%`;
}

/** Columns padded to their widest cell: numbers right-aligned; the first column, and a last column of bars or text when `leftLast`, left-aligned. */
export function table(rows: string[][], options: { leftLast?: boolean } = {}): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, [...cell].length)));
  const left = (i: number, n: number) => i === 0 || (options.leftLast === true && i === n - 1);
  const pad = (cell: string, i: number, n: number) => {
    const fill = ' '.repeat(Math.max(0, (widths[i] ?? 0) - [...cell].length));
    return left(i, n) ? cell + fill : fill + cell;
  };
  return rows.map((row) => `  ${row.map((cell, i) => pad(cell, i, row.length)).join('  ')}`.trimEnd());
}

function bar(value: number | null, max: number, width = 24): string {
  if (value === null || max <= 0) return '';
  return '█'.repeat(Math.max(value > 0 ? 1 : 0, Math.round((value / max) * width)));
}

function range(bucket: Bucket, integers: boolean): string {
  if (integers) return bucket.to - bucket.from === 1 ? `${bucket.from}` : `${bucket.from}–${bucket.to - 1}`;
  return bucket.to === 1 ? `[${bucket.from}, 1]` : `[${bucket.from}, ${bucket.to})`;
}

function bucketTable(buckets: Bucket[], options: { integers: boolean; label: string }): string[] {
  const max = Math.max(0, ...buckets.map((b) => b.meanAbsDelta ?? 0));
  return table([
    [options.label, 'tokens', 'mean |Δ|', 'max |Δ|', 'mean Δ', 'k3', ''],
    ...buckets.map((b) => [range(b, options.integers), String(b.tokens), formatNumber(b.meanAbsDelta), formatNumber(b.maxAbsDelta), formatNumber(b.meanDelta), formatNumber(b.k3), bar(b.meanAbsDelta, max)]),
  ], { leftLast: true });
}

function quote(text: string): string {
  return JSON.stringify(text).slice(1, -1);
}

/** The figures shared by the file report and each demo configuration. */
export function renderStats(stats: PrecisionStats, options: { worst?: boolean } = {}): string[] {
  const out: string[] = [];
  out.push(
    ...table([
      ['mean |Δ logprob|', formatNumber(stats.meanAbsDelta)],
      ['max |Δ logprob|', formatNumber(stats.maxAbsDelta)],
      ['mean Δ (trainer − inference)', formatNumber(stats.meanDelta)],
      ['KL(inference ‖ trainer), k1 per token', formatNumber(stats.k1)],
      ['KL(inference ‖ trainer), k3 per token', formatNumber(stats.k3)],
      ['Pearson r of token probabilities', formatCorrelation(stats.pearson)],
      ['identical logprobs', stats.tokens > 0 ? percent(stats.histogram.exact / stats.tokens) : '—'],
    ]),
  );
  out.push('', 'By position in the sequence', ...bucketTable(stats.byPosition, { integers: true, label: 'positions' }));
  out.push('', 'By inference probability of the token', ...bucketTable(stats.byProbability, { integers: false, label: 'p' }));
  if (options.worst !== false && stats.worst.length > 0) {
    out.push('', `Worst ${stats.worst.length} tokens`);
    out.push(
      ...table([
        ['sequence', 'position', 'token', 'inference', 'trainer', '|Δ|', 'context'],
        ...stats.worst.map((t) => [
          t.sequenceId,
          String(t.position),
          String(t.tokenId),
          t.inferenceLogprob.toFixed(4),
          t.trainerLogprob.toFixed(4),
          formatNumber(t.absDelta),
          t.text ? `"${quote(t.text.before)}⟦${quote(t.text.token)}⟧${quote(t.text.after)}"` : `${t.before.join(' ')} [${t.tokenId}] ${t.after.join(' ')}`.trim(),
        ]),
      ], { leftLast: true }),
    );
  }
  const seq = stats.sequences;
  if (seq.count > 0 && seq.meanAbsDelta && seq.meanLogRatio) {
    const q = (x: typeof seq.meanAbsDelta) => [x.min, x.p5, x.median, x.p95, x.max].map(formatNumber);
    out.push('', `Sequences (${seq.count}); mean log-ratio = Σ(trainer − inference) / tokens, the log of GSPO's sequence ratio`);
    out.push(...table([['per sequence', 'min', 'p5', 'median', 'p95', 'max'], ['mean |Δ|', ...q(seq.meanAbsDelta)], ['mean log-ratio', ...q(seq.meanLogRatio)]]));
    out.push(
      '',
      ...table([
        ['worst sequences', 'tokens', 'mean |Δ|', 'log-ratio', 'mean log-ratio'],
        ...seq.worst.map((r) => [r.id, String(r.tokens), formatNumber(r.meanAbsDelta), formatNumber(r.logRatio), formatNumber(r.meanLogRatio)]),
      ]),
    );
  }
  return out;
}

function idList(side: { count: number; ids: string[] }): string {
  if (side.count === 0) return '0';
  const more = side.count > side.ids.length ? ', …' : '';
  return `${side.count} (${side.ids.join(', ')}${more})`;
}

export function renderPrecisionReport(report: FilePrecisionReport): string {
  const { inputs, stats } = report;
  const out = [`Precision: ${inputs.inference} (inference) vs ${inputs.trainer} (trainer)`, ''];
  out.push(
    ...table([
      ['sequences matched', String(inputs.matched)],
      ['only in the inference file', idList(inputs.onlyInInference)],
      ['only in the trainer file', idList(inputs.onlyInTrainer)],
      ...(inputs.withoutLogprobs.count > 0 ? [['matched but without logprobs (not compared)', idList(inputs.withoutLogprobs)]] : []),
      ['tokens compared', String(stats.tokens)],
    ]),
  );
  if (inputs.maskDisagreements > 0) out.push(`  note: ${inputs.maskDisagreements} positions are masked in one file only; only positions both mark are compared`);
  if (inputs.withoutComparedTokens > 0) out.push(`  note: ${inputs.withoutComparedTokens} matched sequences have no compared position`);
  out.push('', ...renderStats(stats));
  return out.join('\n');
}

export function renderDemo(demo: DemoResult): string {
  const [bf16, fp32] = demo.runs;
  if (!bf16 || !fp32) throw new Error('the demo result needs a bf16 and an fp32 run');
  const m = demo.model;
  const sampled = demo.sequences * (m.maxLength - demo.promptLength);
  const out = [
    `Precision demo (seed ${demo.seed}): a ${m.layers}-layer decoder, d_model ${m.dModel}, ${m.heads} heads, MLP ${m.dFF}, vocab ${m.vocab}, weights and activations in bf16`,
    `  engine:  ${demo.arithmetic.engine}`,
    `  trainer: ${demo.arithmetic.trainer}`,
    `  ${demo.sequences} sequences sampled from the engine: ${demo.promptLength} prompt tokens, then ${m.maxLength - demo.promptLength} sampled (${sampled} compared tokens)`,
    '',
    ...table([
      ['', 'bf16 LM head', 'fp32 LM head', 'fp32 narrows by'],
      ['mean |Δ logprob|', formatNumber(bf16.stats.meanAbsDelta), formatNumber(fp32.stats.meanAbsDelta), formatRatio(demo.narrowing.meanAbsDelta)],
      ['max |Δ logprob|', formatNumber(bf16.stats.maxAbsDelta), formatNumber(fp32.stats.maxAbsDelta), formatRatio(demo.narrowing.maxAbsDelta)],
      ['KL k1 per token', formatNumber(bf16.stats.k1), formatNumber(fp32.stats.k1), ''],
      ['KL k3 per token', formatNumber(bf16.stats.k3), formatNumber(fp32.stats.k3), formatRatio(demo.narrowing.k3)],
      ['Pearson r (probabilities)', formatCorrelation(bf16.stats.pearson), formatCorrelation(fp32.stats.pearson), ''],
      ['identical logprobs', percent(bf16.stats.histogram.exact / Math.max(1, bf16.stats.tokens)), percent(fp32.stats.histogram.exact / Math.max(1, fp32.stats.tokens)), ''],
    ]),
    '',
    'Where the gap opens: engine vs trainer hidden states, relative L2 over every position (bf16-head run; the body is the same',
    'arithmetic with either head) and the logits of each head over the sampled positions',
    ...table([
      ['after', 'rel. L2', 'max |Δ|', 'differing', ''],
      ...bf16.layers.map((layer, i) => {
        const max = Math.max(...bf16.layers.map((l) => l.relativeL2));
        return [layer.name, formatNumber(layer.relativeL2), formatNumber(layer.maxAbsDiff), percent(layer.differing), i < bf16.layers.length - 1 ? bar(layer.relativeL2, max) : ''];
      }),
      ...fp32.layers.slice(-1).map((layer) => [layer.name, formatNumber(layer.relativeL2), formatNumber(layer.maxAbsDiff), percent(layer.differing), '']),
    ], { leftLast: true }),
    '',
    'Mean |Δ logprob| by inference probability',
    ...table([
      ['p', 'tokens', 'bf16 head', 'fp32 head'],
      ...bf16.stats.byProbability.map((b, i) => [range(b, false), String(b.tokens), formatNumber(b.meanAbsDelta), formatNumber(fp32.stats.byProbability[i]?.meanAbsDelta ?? null)]),
    ]),
    '',
    'Mean |Δ logprob| by position',
    ...table([
      ['positions', 'tokens', 'bf16 head', 'fp32 head'],
      ...bf16.stats.byPosition.map((b, i) => [range(b, true), String(b.tokens), formatNumber(b.meanAbsDelta), formatNumber(fp32.stats.byPosition[i]?.meanAbsDelta ?? null)]),
    ]),
  ];
  return out.join('\n');
}
