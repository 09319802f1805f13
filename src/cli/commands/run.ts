import { readFileSync } from 'node:fs';
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { needsTextCompletion, scaffoldNames } from '../../agent/index.ts';
import { FORMAT_NAMES, loadChatTemplate, loadTokenizer } from '../../formats/index.ts';
import { InputError, parseInput, RunConfig, type ModelClient } from '../../core/index.ts';
import { environmentNames, loadTaskFile } from '../../envs/index.ts';
import { createModelClient, createTextCompletionModel, parseModelSpec } from '../../model/index.ts';
import { executeRun, tasksForConfig, type RunProgress, type RunSummary } from '../../runner/index.ts';
import { openStore, type SqliteStore } from '../../store/index.ts';
import { printJson, type CliIo } from '../io.ts';
import { collect, nonNegativeInt, number, oneOf, positiveInt } from '../options.ts';

interface RunFlags {
  env?: string[];
  task?: string[];
  tasksFile?: string[];
  model?: string;
  baseUrl?: string;
  epochs?: number;
  concurrency?: number;
  seed?: number;
  scaffold?: string;
  maxTurns?: number;
  deadline?: number;
  maxAttempts?: number;
  sandbox?: 'auto' | 'virtual' | 'bwrap';
  temperature?: number;
  maxTokens?: number;
  requestTimeout?: number;
  contextBudget?: number;
  keepTurns: number;
  config?: string;
  template?: string;
  toolFormat?: string;
  tokenizer?: string;
  tokenIds?: boolean;
  resume?: string;
  judge?: string;
  mcpServer?: string[];
  store: string;
  json?: boolean;
}

/** `name=command arg …` → an MCP server spec (arguments split on spaces). */
function parseMcpServer(value: string): { name: string; command: string; args: string[] } {
  const match = /^([A-Za-z0-9_-]+)=(\S+)(.*)$/.exec(value.trim());
  if (!match) throw new InputError('--mcp-server', `got "${value}"`, 'NAME=COMMAND [ARGS…], e.g. docs=node server.js');
  return { name: match[1]!, command: match[2]!, args: match[3]!.trim().split(/\s+/).filter(Boolean) };
}

/** A run config from a YAML/JSON file, flags overriding its fields. */
function buildConfig(flags: RunFlags): RunConfig {
  let fromFile: Record<string, unknown> = {};
  if (flags.config) {
    let text: string;
    try {
      text = readFileSync(flags.config, 'utf8');
    } catch (error) {
      throw new InputError(flags.config, `cannot read config (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
    }
    const parsed: unknown = parseYaml(text);
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new InputError(flags.config, 'not a mapping', 'a YAML/JSON object of run settings');
    fromFile = parsed as Record<string, unknown>;
  }
  const merged = {
    epochs: 1,
    concurrency: 4,
    seed: 0,
    ...fromFile,
    ...(flags.env ? { envs: flags.env } : {}),
    ...(flags.task ? { taskIds: flags.task } : {}),
    ...(flags.tasksFile ? { taskFiles: flags.tasksFile } : {}),
    ...(flags.model ? { model: flags.model } : {}),
    modelOptions: {
      ...((fromFile.modelOptions as object | undefined) ?? {}),
      ...(flags.baseUrl ? { baseUrl: flags.baseUrl } : {}),
      ...(flags.template ? { template: flags.template } : {}),
      ...(flags.toolFormat ? { toolFormat: flags.toolFormat } : {}),
      ...(flags.tokenizer ? { tokenizer: flags.tokenizer } : {}),
      ...(flags.tokenIds ? { sendTokenIds: true } : {}),
    },
    ...(flags.epochs !== undefined ? { epochs: flags.epochs } : {}),
    ...(flags.concurrency !== undefined ? { concurrency: flags.concurrency } : {}),
    ...(flags.seed !== undefined ? { seed: flags.seed } : {}),
    ...(flags.scaffold ? { scaffold: flags.scaffold } : {}),
    ...(flags.maxTurns !== undefined ? { maxTurns: flags.maxTurns } : {}),
    ...(flags.deadline !== undefined ? { deadlineMs: Math.round(flags.deadline * 1000) } : {}),
    ...(flags.maxAttempts !== undefined ? { maxAttempts: flags.maxAttempts } : {}),
    ...(flags.sandbox ? { sandbox: flags.sandbox } : {}),
    ...(flags.judge ? { judge: flags.judge } : {}),
    ...(flags.mcpServer ? { mcpServers: flags.mcpServer.map(parseMcpServer) } : {}),
  };
  const sampling = { ...((fromFile.sampling as object | undefined) ?? {}) } as Record<string, unknown>;
  if (flags.temperature !== undefined) sampling.temperature = flags.temperature;
  if (flags.maxTokens !== undefined) sampling.maxTokens = flags.maxTokens;
  if (!('envs' in merged) && flags.tasksFile) {
    (merged as Record<string, unknown>).envs = [...new Set(flags.tasksFile.flatMap((f) => loadTaskFile(f).map((t) => t.env)))];
  }
  if (!('envs' in merged)) throw new InputError('--env', 'no environment given', `--env NAME (one of ${environmentNames().join(', ')})`);
  if (!('model' in merged)) throw new InputError('--model', 'no model given', 'oracle, random, scripted:PATH, openai:BASE_URL#MODEL, anthropic:BASE_URL#MODEL or minimax:MODEL');
  const config = parseInput(RunConfig, { ...merged, sampling }, flags.config ?? 'run options');
  parseModelSpec(config.model);
  if (config.judge) parseModelSpec(config.judge);
  if (needsTextCompletion(config.scaffold)) parseInput(TextToolsOptions, config.modelOptions, 'text-tools options');
  for (const env of config.envs) if (!environmentNames().includes(env)) throw new InputError('--env', `unknown environment "${env}"`, `one of ${environmentNames().join(', ')}`);
  if (!scaffoldNames().includes(config.scaffold)) throw new InputError('--scaffold', `unknown scaffold "${config.scaffold}"`, `one of ${scaffoldNames().join(', ')}`);
  return config;
}

/** Options for the text-tools scaffold, kept in `modelOptions` so a resumed run rebuilds the same client. */
const TextToolsOptions = z.object({
  template: z.string({ error: 'the text-tools scaffold needs --template PATH' }).min(1),
  toolFormat: z.enum(FORMAT_NAMES, { error: `--tool-format must be one of ${FORMAT_NAMES.join(', ')}` }),
  tokenizer: z.string().optional(),
  sendTokenIds: z.boolean().default(false),
});

async function textCompletionModel(config: RunConfig, io: CliIo, timeoutMs: number | undefined): Promise<ModelClient> {
  const spec = parseModelSpec(config.model);
  if (spec.kind !== 'openai') throw new InputError('--model', `the text-tools scaffold talks to /v1/completions, got "${config.model}"`, 'openai:BASE_URL#MODEL');
  const options = parseInput(TextToolsOptions, config.modelOptions, 'text-tools options');
  const tokenizer = options.tokenizer ? await loadTokenizer(options.tokenizer) : undefined;
  if (options.sendTokenIds && !tokenizer) throw new InputError('--token-ids', 'sending token ids needs a tokenizer', '--tokenizer PATH (a tokenizer.json)');
  return createTextCompletionModel({
    baseURL: spec.baseUrl,
    model: spec.model,
    template: await loadChatTemplate(options.template),
    format: options.toolFormat,
    sendTokenIds: options.sendTokenIds,
    spec: `text:${config.model}`,
    ...(tokenizer ? { tokenizer } : {}),
    ...(io.env.OPENAI_API_KEY ? { apiKey: io.env.OPENAI_API_KEY } : {}),
    ...(timeoutMs ? { timeoutMs } : {}),
  });
}

export async function modelFor(config: RunConfig, io: CliIo, flags: { requestTimeout?: number }): Promise<ModelClient> {
  const timeoutMs = flags.requestTimeout ? Math.round(flags.requestTimeout * 1000) : undefined;
  if (needsTextCompletion(config.scaffold)) return textCompletionModel(config, io, timeoutMs);
  const baseUrl = typeof config.modelOptions.baseUrl === 'string' ? config.modelOptions.baseUrl : undefined;
  return createModelClient(config.model, {
    env: io.env,
    seed: config.seed,
    ...(baseUrl ? { baseUrl } : {}),
    ...(timeoutMs ? { timeoutMs } : {}),
  });
}

function progressReporter(io: CliIo): { update: (p: RunProgress) => void; stop: () => void } {
  if (!io.interactive) return { update: () => {}, stop: () => {} };
  const bar = new cliProgress.SingleBar(
    { format: 'rollouts {bar} {value}/{total} | passed {passed} | infra errors {infra} | ETA {eta_formatted}', stream: process.stderr, hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update: (p) => {
      if (!started) {
        bar.start(p.total, p.done, { passed: p.passed, infra: p.infraErrors });
        started = true;
      } else bar.update(p.done, { passed: p.passed, infra: p.infraErrors });
    },
    stop: () => started && bar.stop(),
  };
}

export function describeSummary(summary: RunSummary, store: SqliteStore): string {
  const reasons = Object.entries(summary.terminationReasons)
    .filter(([, n]) => n > 0)
    .map(([r, n]) => `${r} ${n}`)
    .join(', ');
  return [
    `run ${summary.runId} ${summary.status}: ${summary.rollouts} rollouts, ${summary.scored} scored, ${summary.infraErrors} infra errors${summary.missing ? `, ${summary.missing} missing (resume with --resume ${summary.runId})` : ''}`,
    `pass rate ${(summary.passRate * 100).toFixed(1)}% (${summary.passed}/${summary.scored} scored), mean score ${summary.meanScore.toFixed(3)}`,
    `stopped by: ${reasons || '(none)'}`,
    `stored in ${store.path}; inspect with \`gauntlet show ${summary.runId}\``,
  ].join('\n');
}

export function registerRunCommand(program: Command, io: CliIo): void {
  program
    .command('run')
    .description('Run rollouts of an environment\'s tasks with a model and score them')
    .option('--env <name>', 'environment(s), repeatable or comma-separated', collect)
    .option('--task <id>', 'only these task ids, repeatable or comma-separated', collect)
    .option('--tasks-file <file>', 'run the tasks in this YAML/JSON file instead of the built-in ones (repeatable)', collect)
    .option('--model <spec>', 'oracle | random | placeholder | noop | scripted:PATH | openai:BASE_URL#MODEL | anthropic:BASE_URL#MODEL | minimax:MODEL')
    .option('--base-url <url>', 'override the model endpoint (minimax)')
    .option('--epochs <n>', 'rollouts per task', positiveInt('--epochs'))
    .option('--concurrency <n>', 'rollouts in flight at once', positiveInt('--concurrency'))
    .option('--seed <n>', 'seed for worlds and random policies', nonNegativeInt('--seed'))
    .option('--scaffold <name>', `agent scaffold (${scaffoldNames().join(', ')})`)
    .option('--max-turns <n>', 'override every task\'s turn limit', positiveInt('--max-turns'))
    .option('--deadline <seconds>', 'override every task\'s wall-clock deadline', number('--deadline', { min: 0.001 }))
    .option('--max-attempts <n>', 'attempts per rollout when infrastructure fails', positiveInt('--max-attempts'))
    .option('--sandbox <backend>', 'command sandbox: auto, virtual or bwrap', oneOf('--sandbox', ['auto', 'virtual', 'bwrap'] as const))
    .option('--temperature <t>', 'sampling temperature', number('--temperature', { min: 0, max: 2 }))
    .option('--max-tokens <n>', 'completion token limit per call', positiveInt('--max-tokens'))
    .option('--request-timeout <seconds>', 'per model request; a request past it is an infra error', number('--request-timeout', { min: 0.001 }))
    .option('--context-budget <tokens>', 'summarise older turns when the context exceeds this (off by default)', positiveInt('--context-budget'))
    .option('--keep-turns <n>', 'recent turns kept verbatim when summarising', positiveInt('--keep-turns'), 4)
    .option('--template <path>', 'text-tools: the model\'s chat template (chat_template.jinja, tokenizer_config.json or a model dir)')
    .option('--tool-format <name>', `text-tools: tool-call format (${FORMAT_NAMES.join(', ')})`)
    .option('--tokenizer <path>', 'text-tools: tokenizer.json, for sending token ids')
    .option('--token-ids', 'text-tools: send the prompt as token ids (vLLM/SGLang)')
    .option('--judge <spec>', 'judge model for LLM-judge checks (same spec forms as --model)')
    .option('--mcp-server <name=command>', 'add an MCP server\'s tools to every episode, e.g. "docs=node docs-server.js" (repeatable)', (v: string, prev: string[] = []) => [...prev, v])
    .option('--config <file>', 'YAML/JSON run settings (flags override)')
    .option('--resume <runId>', 'finish an interrupted run: only missing rollouts run')
    .option('--store <path>', 'SQLite store', '.gauntlet/gauntlet.db')
    .option('--json', 'print one JSON summary on stdout')
    .action(async (flags: RunFlags) => {
      const store = openStore(flags.store);
      const controller = new AbortController();
      const onSignal = () => {
        io.stderr('\ninterrupted: finishing in-flight work; resume with --resume\n');
        controller.abort();
      };
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      const progress = progressReporter(io);
      try {
        let config: RunConfig;
        if (flags.resume) {
          const stored = store.getRun(flags.resume);
          if (!stored) throw new InputError('--resume', `no run "${flags.resume}" in ${store.path}`, 'a run id shown by `gauntlet runs`');
          config = stored.config;
        } else config = buildConfig(flags);
        const model = await modelFor(config, io, flags);
        const judge = config.judge ? await modelFor({ ...config, model: config.judge, scaffold: 'interleaved' }, io, flags) : undefined;
        const summary = await executeRun({
          store,
          model,
          ...(judge ? { judge } : {}),
          tasks: tasksForConfig,
          ...(flags.resume ? { resume: flags.resume } : { config }),
          ...(flags.contextBudget ? { context: { budgetTokens: flags.contextBudget, keepRecentTurns: flags.keepTurns } } : {}),
          signal: controller.signal,
          onProgress: progress.update,
        });
        progress.stop();
        await model.close?.();
        if (flags.json) printJson(io, { ...summary, store: store.path });
        else io.stdout(`${describeSummary(summary, store)}\n`);
        if (summary.status === 'interrupted') process.exitCode = 130;
      } finally {
        progress.stop();
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        store.close();
      }
    });
}
