// `gauntlet precision`: how far the trainer's logprobs of the sampled tokens are from the inference
// engine's, from two JSONL files or from a built-in bf16 demonstration that needs no GPU.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { errorMessage, InputError } from '../../core/index.ts';
import { loadTokenizer } from '../../formats/index.ts';
import { compareFiles, renderDemo, renderPrecisionReport, renderPrecisionSvg, runPrecisionDemo, type DemoResult } from '../../training/precision/index.ts';
import { printJson, type CliIo } from '../io.ts';
import { nonNegativeInt, positiveInt } from '../options.ts';

interface PrecisionFlags {
  inference?: string;
  trainer?: string;
  tokenizer?: string;
  top: number;
  demo?: boolean;
  seed?: number;
  writeInputs?: string;
  json?: boolean;
  svg?: string;
}

const FORMAT_HELP = `
Input files (JSONL, one sequence per line; lines of the two files are matched by "id"):
  {"id": "rollout-7/call-2", "tokenIds": [151644, 872, ...], "logprobs": [0.0, -0.013, ...], "mask": [0, 1, ...]}
  - tokenIds (or token_ids): the token ids the engine produced; both files must hold the same ids
    for a sequence, or the command stops: a trainer that re-tokenised is the bug to find.
  - logprobs: one per token id, the logprob of that token given everything before it (full-sequence
    alignment, as TRL async and prime-rl; response-aligned files work too if both files use it).
    Finite and <= 0; null, 0.0, -Infinity or NaN where nothing was sampled (mask 0 there). Where compared, not
    below -744.44 (ln of the smallest double: -9999 and the like stand for -Infinity), and the
    trainer's no more than 600 above the engine's.
  - mask (optional, 0/1 or booleans): 1 on sampled tokens to compare; default every position.
    Where both files have one, a position is compared when both say 1.
  - Any other key is refused. Rows of \`gauntlet export --for generic --format jsonl\` are read
    as they are: sample_id is the id, loss_mask the mask (sampled tokens only), other fields are
    ignored; a row whose logprobs are null (none recorded) is counted and not compared.
Δ = trainer − inference. KL(inference ‖ trainer) is estimated per token from the sampled tokens
with r = p_trainer / p_inference: k1 = −log r, k3 = (r − 1) − log r.

Examples:
  gauntlet precision --inference engine.jsonl --trainer trainer.jsonl --svg precision.svg
  gauntlet precision --demo --seed 1`;

function writeText(file: string, text: string, flag: string): void {
  try {
    writeFileSync(file, text);
  } catch (error) {
    throw new InputError(flag, `cannot write ${file} (${errorMessage(error)})`, 'a writable file path');
  }
}

/** Each head configuration's sequences as an inference and a trainer file in the input format. */
function writeDemoInputs(demo: DemoResult, dir: string): string[] {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (error) {
    throw new InputError('--write-inputs', `cannot create ${dir} (${errorMessage(error)})`, 'a writable directory');
  }
  const written: string[] = [];
  for (const run of demo.runs) {
    for (const side of ['inference', 'trainer'] as const) {
      const file = join(dir, `demo-${run.head}-head-${side}.jsonl`);
      const lines = run.sequences.map((s) => JSON.stringify({ id: s.id, tokenIds: s.tokenIds, logprobs: s[side], mask: s.mask }));
      writeText(file, `${lines.join('\n')}\n`, '--write-inputs');
      written.push(file);
    }
  }
  return written;
}

function checkFlags(flags: PrecisionFlags): void {
  if (flags.demo) {
    const clash = (['inference', 'trainer', 'tokenizer'] as const).find((f) => flags[f] !== undefined);
    if (clash) throw new InputError(`--${clash}`, 'cannot be combined with --demo', '--demo alone, or --inference and --trainer');
    return;
  }
  if (flags.seed !== undefined) throw new InputError('--seed', 'only applies to --demo', '--demo --seed N');
  if (flags.writeInputs !== undefined) throw new InputError('--write-inputs', 'only applies to --demo', '--demo --write-inputs DIR');
  if (!flags.inference || !flags.trainer) {
    throw new InputError(flags.inference ? '--trainer' : '--inference', 'missing', '--inference ENGINE.jsonl --trainer TRAINER.jsonl, or --demo');
  }
}

export function registerPrecisionCommand(program: Command, io: CliIo): void {
  program
    .command('precision')
    .description('Training/inference mismatch: per-token logprobs of the same tokens from the engine and from the trainer')
    .option('--inference <file>', 'JSONL of the engine\'s per-token logprobs (format below)')
    .option('--trainer <file>', 'JSONL of the trainer\'s logprobs of the same tokens')
    .option('--tokenizer <path>', 'tokenizer.json (or a model directory holding one) to decode the worst tokens\' context')
    .option('--top <n>', 'worst tokens and sequences to list', positiveInt('--top'), 10)
    .option('--demo', 'built-in demonstration, no GPU: a small bf16 transformer run by an "engine" and a "trainer" that accumulate differently, with a bf16 and an fp32 LM head')
    .option('--seed <n>', 'demo seed (default 1)', nonNegativeInt('--seed'))
    .option('--write-inputs <dir>', 'with --demo: also write the sampled sequences as input files (one inference and one trainer file per head)')
    .option('--json', 'one JSON document on stdout')
    .option('--svg <file>', 'write a self-contained SVG plot of the mismatch')
    .addHelpText('after', FORMAT_HELP)
    .action(async (flags: PrecisionFlags) => {
      checkFlags(flags);
      if (flags.demo) {
        const started = performance.now();
        const demo = runPrecisionDemo({ seed: flags.seed ?? 1, top: flags.top });
        io.stderr(`precision demo: ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
        if (flags.svg) {
          const series = demo.runs.map((run) => ({ label: `${run.head} LM head`, stats: run.stats, layers: run.layers }));
          writeText(flags.svg, renderPrecisionSvg({ title: `Precision demo, seed ${demo.seed}: engine vs trainer in bf16`, series }), '--svg');
          io.stderr(`wrote ${flags.svg}\n`);
        }
        if (flags.writeInputs) io.stderr(`wrote ${writeDemoInputs(demo, flags.writeInputs).join(', ')}\n`);
        // The sampled sequences are the demo's raw material, not its result; --write-inputs writes them.
        const document = { ...demo, runs: demo.runs.map(({ sequences: _, ...run }) => run) };
        if (flags.json) return printJson(io, document);
        io.stdout(`${renderDemo(demo)}\n`);
        return;
      }
      const tokenizer = flags.tokenizer ? await loadTokenizer(flags.tokenizer) : undefined;
      const report = await compareFiles({ inference: flags.inference as string, trainer: flags.trainer as string }, { top: flags.top, ...(tokenizer ? { tokenizer } : {}) });
      if (flags.svg) {
        writeText(flags.svg, renderPrecisionSvg({ title: `Precision: ${report.inputs.inference} vs ${report.inputs.trainer}`, series: [{ label: 'trainer vs inference', stats: report.stats }] }), '--svg');
        io.stderr(`wrote ${flags.svg}\n`);
      }
      if (flags.json) return printJson(io, report);
      io.stdout(`${renderPrecisionReport(report)}\n`);
    });
}
