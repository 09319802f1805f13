import { Option, type Command } from 'commander';
import { InputError, MAX_JSON_DEPTH, errorMessage, nestsDeeperThan, parseInputText, type JsonObject } from '../../core/index.ts';
import {
  FORMAT_NAMES,
  MAX_MODEL_FILE_BYTES,
  decodeUtf8,
  getFormat,
  loadChatTemplate,
  parseChatMessages,
  parseChatTools,
  readTextFile,
  thinkOptionsForPrompt,
  withoutBom,
  type ChatTool,
  type ParseOptions,
  type ParsedCompletion,
} from '../../formats/index.ts';
import { processIo } from '../io.ts';

// `gauntlet render` and `gauntlet parse`: a model's prompt text and a completion's calls, exactly
// as the engines would make them. The actions are plain functions over injected streams that
// return the exit code, so tests call them directly: 0 ok, 1 the template refused, 2 bad input.

export interface FormatsIo {
  stdout(text: string): void;
  stderr(text: string): void;
  /** The whole of standard input. */
  stdin(): Promise<string>;
}

/** The most read of a completion on stdin: far beyond any model's output, and a bound on the memory one run takes. */
export const MAX_COMPLETION_BYTES = 64 * 1024 * 1024;

export interface RenderFlags {
  template: string;
  messages: string;
  tools?: string;
  /** commander's `--no-generation-prompt` sets this false. */
  generationPrompt?: boolean;
  var?: string[];
}

export interface ParseFlags {
  format: string;
  tools?: string;
  /** `--prompt-opens-think` / `--no-prompt-opens-think`; left out, the format's default. */
  promptOpensThink?: boolean;
  /** commander's `--no-thinking` sets this false. */
  thinking?: boolean;
  /** The rendered prompt the completion continues; the think options are read off its end. */
  prompt?: string;
  /** @deprecated `--thinking-open`, the former `--prompt-opens-think`. */
  thinkingOpen?: boolean;
}

export async function renderAction(flags: RenderFlags, io: FormatsIo): Promise<number> {
  return reportInputErrors(io, async () => {
    const vars = parseVars(flags.var ?? []);
    const template = await loadChatTemplate(flags.template);
    const messages = parseChatMessages(await readDataFile(flags.messages, '--messages'), flags.messages);
    const tools = flags.tools ? await readTools(flags.tools) : undefined;
    const result = template.render({ messages, ...(tools ? { tools } : {}), addGenerationPrompt: flags.generationPrompt ?? true, vars });
    if (!result.ok) {
      io.stderr(`gauntlet render: ${result.message}\n`);
      return 1;
    }
    io.stdout(result.text);
    return 0;
  });
}

export async function parseAction(flags: ParseFlags, io: FormatsIo): Promise<number> {
  return reportInputErrors(io, async () => {
    const format = getFormat(flags.format, '--format');
    const tools = flags.tools ? await readTools(flags.tools) : undefined;
    let text: string;
    try {
      text = await io.stdin();
    } catch (error) {
      if (error instanceof InputError) throw error;
      throw new InputError('stdin', `cannot read the completion (${errorMessage(error)})`);
    }
    const parsed = format.parse(text, { ...(tools ? { tools } : {}), ...(await thinkOptions(flags)) });
    io.stdout(`${JSON.stringify(parsedJson(parsed), null, 2)}\n`);
    return 0;
  });
}

/** Where reasoning starts: said outright, or read off the rendered prompt; never both. */
async function thinkOptions(flags: ParseFlags): Promise<Pick<ParseOptions, 'promptOpensThink' | 'thinking'>> {
  const opens = flags.promptOpensThink ?? (flags.thinkingOpen ? true : undefined);
  const explicit = { ...(opens !== undefined ? { promptOpensThink: opens } : {}), ...(flags.thinking === false ? { thinking: false } : {}) };
  if (flags.prompt === undefined) return explicit;
  if (Object.keys(explicit).length > 0) {
    throw new InputError('--prompt', 'given with --prompt-opens-think/--no-prompt-opens-think/--no-thinking', 'either the rendered prompt or the think flags, not both');
  }
  return thinkOptionsForPrompt(await readTextFile(flags.prompt, MAX_MODEL_FILE_BYTES, { where: `--prompt ${flags.prompt}` }));
}

/** The CLI's JSON: snake_case like the chat APIs, arguments as objects (null with the raw text when unparseable). */
export function parsedJson(parsed: ParsedCompletion): JsonObject {
  return {
    reasoning: parsed.reasoning,
    content: parsed.content,
    tool_calls: parsed.toolCalls.map((call) => ({
      name: call.name,
      arguments: call.arguments,
      ...(call.arguments === null ? { arguments_text: call.argumentsText } : {}),
    })),
    errors: parsed.errors.map((error) => ({ kind: error.kind, message: error.message, ...(error.callIndex !== undefined ? { call_index: error.callIndex } : {}) })),
  };
}

/** `--var key=value`: values read as JSON when they are JSON (`false`, `3`, `{"a":1}`), else as text. */
export function parseVars(entries: readonly string[]): Record<string, unknown> {
  const vars: Record<string, unknown> = {};
  for (const entry of entries) {
    const eq = entry.indexOf('=');
    if (eq <= 0) throw new InputError('--var', `got "${entry}"`, 'key=value, e.g. enable_thinking=false');
    const raw = entry.slice(eq + 1);
    let value: unknown;
    try {
      value = JSON.parse(raw) as unknown;
    } catch (_error) {
      value = raw;
    }
    // Defined, not assigned: assigning `__proto__` would set the object's prototype and the variable would be lost.
    Object.defineProperty(vars, entry.slice(0, eq), { value, enumerable: true, writable: true, configurable: true });
  }
  return vars;
}

async function readTools(path: string): Promise<ChatTool[]> {
  return parseChatTools(await readDataFile(path, '--tools'), path);
}

/**
 * A JSON or YAML file; `.json` files must be JSON, others may be either. Errors name the file and
 * line. The text must be UTF-8 (a byte order mark is dropped); the value may nest at most as deep
 * as the JSON the rest of Gauntlet takes.
 */
async function readDataFile(path: string, flag: string): Promise<unknown> {
  const text = withoutBom(await readTextFile(path, MAX_MODEL_FILE_BYTES, { where: `${flag} ${path}` }));
  const json = path.endsWith('.json');
  // The shared rules: duplicate keys, tags, `__proto__` and inexact numbers are refused by line.
  const { value } = parseInputText(text, path, { json, syntax: json ? 'is not valid JSON' : 'is neither JSON nor YAML' });
  if (nestsDeeperThan(value, MAX_JSON_DEPTH)) throw new InputError(path, `nests arrays and objects more than ${MAX_JSON_DEPTH} levels deep`, 'chat messages or tools as JSON or YAML');
  return value;
}

async function reportInputErrors(io: FormatsIo, run: () => Promise<number>): Promise<number> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof InputError) {
      io.stderr(`gauntlet: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
}

/** All of `stream` as UTF-8 text, refusing more than `maxBytes` as soon as it arrives (a 1 GB pipe is not held whole). */
export async function readCompletionStream(stream: AsyncIterable<unknown>, maxBytes = MAX_COMPLETION_BYTES): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    size += bytes.length;
    if (size > maxBytes) throw new InputError('stdin', `holds more than ${maxBytes.toLocaleString('en')} bytes`, 'one completion');
    chunks.push(bytes);
  }
  return decodeUtf8(Buffer.concat(chunks, size), 'stdin');
}

function collectVar(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function registerFormatCommands(program: Command, cliIo: { stdout(text: string): void; stderr(text: string): void } = processIo): void {
  const io: FormatsIo = { stdout: (t) => cliIo.stdout(t), stderr: (t) => cliIo.stderr(t), stdin: () => readCompletionStream(process.stdin) };
  program
    .command('render')
    .description("Render messages (and tools) into a model's exact prompt with its own chat template, as Hugging Face does")
    .requiredOption('--template <path>', 'chat_template.jinja, tokenizer_config.json or a model directory')
    .requiredOption('--messages <file>', 'JSON or YAML array of chat messages (OpenAI / HF format)')
    .option('--tools <file>', 'JSON or YAML array of {"type":"function","function":{…}} tools')
    .option('--no-generation-prompt', 'leave out the assistant generation prompt')
    .option('--var <key=value>', 'template variable, repeatable (values parse as JSON when they can: enable_thinking=false)', collectVar)
    .action(async (flags: RenderFlags) => {
      process.exitCode = await renderAction(flags, io);
    });
  program
    .command('parse')
    .description('Parse a completion from stdin into reasoning, content and tool calls, as vLLM/SGLang do; prints one JSON document')
    .requiredOption('--format <name>', FORMAT_NAMES.join('|'))
    .option('--tools <file>', 'tools whose schemas type the arguments and flag unknown tools')
    .option('--prompt-opens-think', 'the prompt ended inside <think> (MiniMax-M2, Qwen3 thinking): text up to </think> or a first tool call is reasoning')
    .option('--no-prompt-opens-think', 'the prompt did not open <think>: only a <think> the model writes starts reasoning, a stray </think> is content')
    .option('--no-thinking', 'thinking was switched off (enable_thinking=false): everything is content')
    .option('--prompt <file>', 'the rendered prompt (gauntlet render) the completion continues: the think options are read off its end')
    .addOption(new Option('--thinking-open', 'former name of --prompt-opens-think').hideHelp())
    .action(async (flags: ParseFlags) => {
      process.exitCode = await parseAction(flags, io);
    });
}
