import { stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Command } from 'commander';
import { InputError } from '../../core/index.ts';
import { loadChatTemplate } from '../../formats/index.ts';
import { loadScript } from '../../model/index.ts';
import {
  DEFAULT_FAKE_MODEL,
  DEFAULT_MAX_MODEL_LEN,
  loadEngineTokenizer,
  scriptPolicy,
  startFakeEngine,
  toolWalkPolicy,
  type FakeEngine,
  type FakeEngineOptions,
  type ScriptPolicy,
} from '../../training/fake-engine/index.ts';
import type { CliIo } from '../io.ts';
import { nonNegativeInt, oneOf, positiveInt } from '../options.ts';
import { untilSignal } from '../signals.ts';

export interface FakeEngineFlags {
  port: number;
  host: string;
  script?: string;
  policy?: 'tool-walk';
  turns: number;
  seed: number;
  template?: string;
  tokenizer?: string;
  model: string;
  latencyMs: number;
  tokenLatencyMs: number;
  maxModelLen: number;
  reasoningField: 'reasoning' | 'reasoning_content';
}

/** For tests: see the engine once it listens, and stop it without a signal. */
export interface FakeEngineHooks {
  onReady?: (engine: FakeEngine) => void;
  stop?: Promise<void>;
}

/** The engine options the flags describe; every file is loaded (and checked) here, before the server starts. */
export async function fakeEngineOptions(flags: FakeEngineFlags): Promise<{ options: FakeEngineOptions; describe: string; script?: ScriptPolicy }> {
  if (flags.script && flags.policy) throw new InputError('--script / --policy', 'both were given', 'one of them: a script of turns, or a seeded policy');
  const script = flags.script ? scriptPolicy(await loadScript(flags.script), flags.script) : undefined;
  const policy = script ?? toolWalkPolicy({ turns: flags.turns });
  const template = flags.template ? await loadChatTemplate(flags.template) : undefined;
  const tokenizerPath = flags.tokenizer ?? (flags.template ? await tokenizerBeside(flags.template) : undefined);
  const tokenizer = tokenizerPath ? await loadEngineTokenizer(tokenizerPath) : undefined;
  const options: FakeEngineOptions = {
    port: flags.port,
    host: flags.host,
    model: flags.model,
    policy,
    seed: flags.seed,
    latency: { firstTokenMs: flags.latencyMs, perTokenMs: flags.tokenLatencyMs },
    maxModelLen: flags.maxModelLen,
    reasoningField: flags.reasoningField,
    ...(template ? { template } : {}),
    ...(tokenizer ? { tokenizer } : {}),
  };
  const answers = script ? `script ${flags.script}` : `tool-walk (${flags.turns} tool turns, seed ${flags.seed})`;
  const describe = `${answers}; template ${template?.where ?? 'Qwen3 (shipped)'}; tokenizer ${tokenizerPath ?? 'Qwen3 (shipped)'}`;
  return { options, describe, ...(script ? { script } : {}) };
}

/** A tokenizer.json beside a template file (or inside a model directory), if there is one. */
async function tokenizerBeside(templatePath: string): Promise<string | undefined> {
  const info = await stat(templatePath).catch(() => undefined);
  const candidate = join(info?.isDirectory() ? templatePath : dirname(templatePath), 'tokenizer.json');
  return (await stat(candidate).then(() => true, () => false)) ? candidate : undefined;
}

export function registerFakeEngineCommand(program: Command, io: CliIo, hooks: FakeEngineHooks = {}): void {
  program
    .command('fake-engine')
    .description(
      "Serve a loopback stand-in for vLLM's OpenAI server that captures tokens: real chat template and tokenizer, prompt and completion ids, logprobs; answers from a script or a seeded policy",
    )
    .option('--port <n>', 'port (0 picks a free one)', nonNegativeInt('--port', { max: 65_535 }), 8000)
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .option('--script <file>', 'answer from a YAML/JSON script of turns (the mock-model format)')
    .option('--policy <name>', 'answer with a seeded policy: tool-walk (the default)', oneOf('--policy', ['tool-walk'] as const))
    .option('--turns <n>', 'tool-walk: tool-calling turns after each user message before the answer', nonNegativeInt('--turns'), 3)
    .option('--seed <n>', 'seed of the policy, tool call ids and logprobs', nonNegativeInt('--seed'), 0)
    .option('--template <path>', 'chat template: a .jinja, a tokenizer_config.json or a model directory (default: the shipped Qwen3 template)')
    .option('--tokenizer <path>', 'tokenizer.json or model directory (default: one beside --template, else the shipped Qwen3 tokenizer)')
    .option('--model <name>', 'the served model name', DEFAULT_FAKE_MODEL)
    .option('--latency-ms <n>', 'wait before the first token of each answer', nonNegativeInt('--latency-ms'), 0)
    .option('--token-latency-ms <n>', 'wait per generated token', nonNegativeInt('--token-latency-ms'), 0)
    .option('--max-model-len <n>', 'context length: longer prompts and budgets get vLLM\'s 400', positiveInt('--max-model-len'), DEFAULT_MAX_MODEL_LEN)
    .option('--reasoning-field <name>', 'reasoning (vLLM) or reasoning_content (SGLang, older vLLM)', oneOf('--reasoning-field', ['reasoning', 'reasoning_content'] as const), 'reasoning')
    .action(async (flags: FakeEngineFlags) => {
      const { options, describe, script } = await fakeEngineOptions(flags);
      const engine = await startFakeEngine(options);
      io.stderr(`fake engine on ${engine.url} serving ${engine.model} (${describe})\ntry --model openai:${engine.url}#${engine.model}; /tokenize and /detokenize are at ${engine.origin}\n`);
      hooks.onReady?.(engine);
      await (hooks.stop ?? untilSignal());
      await engine.close();
      const unplayed = script?.unplayed() ?? [];
      if (unplayed.length > 0) io.stderr(`fake engine: ${unplayed.length} script turn${unplayed.length === 1 ? ' was' : 's were'} never requested (turn ${unplayed.map((i) => i + 1).join(', ')})\n`);
    });
}

