import { existsSync, readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { InputError, JsonObject, parseInput, SamplingParams } from '../../core/index.ts';
import { environmentNames } from '../../envs/index.ts';

/** A suite: what to evaluate, how often, and (for `gauntlet gate`) the thresholds to hold. */
export const EvalSuite = z
  .object({
    name: z.string().min(1).optional(),
    envs: z.array(z.string().min(1)).min(1, 'at least one environment').optional(),
    tasks: z.array(z.string().min(1)).optional(),
    taskFiles: z.array(z.string().min(1)).optional(),
    models: z.array(z.string().min(1)).optional(),
    /** Judge model spec for LLM-judge checks. */
    judge: z.string().min(1).optional(),
    epochs: z.number().int().min(1).default(3),
    seed: z.number().int().nonnegative().default(0),
    concurrency: z.number().int().positive().default(4),
    minEffect: z.number().gt(0).lt(1).optional(),
    resamples: z.number().int().min(100).optional(),
    scaffold: z.string().optional(),
    maxTurns: z.number().int().positive().optional(),
    deadlineMs: z.number().int().positive().optional(),
    sandbox: z.enum(['auto', 'virtual', 'bwrap']).optional(),
    sampling: SamplingParams.default({}),
    /** Skip tasks whose golden solution fails (checked before running); on by default. */
    validateGolden: z.boolean().default(true),
    gate: JsonObject.optional(),
  })
  .strict();
export type EvalSuite = z.infer<typeof EvalSuite>;

/** `--suite` takes a YAML/JSON file, or the name of a built-in environment (its whole task set). */
export function loadSuite(spec: string): EvalSuite {
  if (!existsSync(spec)) {
    if (environmentNames().includes(spec)) return EvalSuite.parse({ name: spec, envs: [spec] });
    throw new InputError('--suite', `"${spec}" is neither a file nor a built-in environment`, `a suite file or one of ${environmentNames().join(', ')}`);
  }
  let data: unknown;
  try {
    data = parseYaml(readFileSync(spec, 'utf8'));
  } catch (error) {
    throw new InputError(spec, `not valid YAML/JSON: ${(error as Error).message.split('\n')[0]}`);
  }
  const suite = parseInput(EvalSuite, data, spec);
  if (!suite.envs && !suite.taskFiles) throw new InputError(spec, 'the suite names no tasks', '`envs: [...]` or `taskFiles: [...]`');
  return suite;
}
