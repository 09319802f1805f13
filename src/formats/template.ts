import { readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Environment } from '@huggingface/jinja';
import { InputError, errorMessage } from '../core/index.ts';
import type { ChatMessage, ChatTool } from './chat.ts';
import { locateStatement, locateSyntaxError, type StatementLocation } from './jinja-diagnostics.ts';
import { runtimeValue } from './jinja-python.ts';
import { DEFAULT_RENDER_LIMITS, RenderError, RenderLimitError, renderBounded, type Node, type RenderLimits, type RenderOutcome } from './jinja-runtime.ts';
import { compileTemplate, type Program, type Token } from './jinja-syntax.ts';

/** Special tokens from tokenizer_config.json, passed to templates as HF's `special_tokens_map` is. */
export type SpecialTokens = Record<string, string | string[]>;

export interface RenderInput {
  messages: readonly ChatMessage[];
  /** Left out (or empty): the template sees `tools` undefined, as HF passes `tools=None`. */
  tools?: readonly ChatTool[];
  /** HF's default is false; the CLI and the text-completion client turn it on. */
  addGenerationPrompt?: boolean;
  /** Extra template kwargs (`enable_thinking`, …); they win over special tokens of the same name. */
  vars?: Record<string, unknown>;
  /** Pick a named template from a list-form `chat_template`; otherwise `tool_use` when tools are given, else `default`. */
  templateName?: string;
}

export type RenderResult =
  | { ok: true; text: string; templateName: string }
  | {
      ok: false;
      kind: 'raise_exception' | 'runtime' | 'limit' | 'no_template';
      message: string;
      /** The template line a runtime error, limit or raise_exception stopped at. */
      line?: number;
    };

export interface ChatTemplate {
  /** Where it came from (a path, or `inline`), for error messages. */
  readonly where: string;
  readonly names: readonly string[];
  readonly specialTokens: SpecialTokens;
  /** The template text that `render` would use for this input. */
  source(name?: string): string | undefined;
  render(input: RenderInput): RenderResult;
}

export interface ChatTemplateOptions {
  where?: string;
  specialTokens?: SpecialTokens;
  /** The clock behind `strftime_now` (templates that print today's date); injected for determinism. */
  now?: () => Date;
  /** Bounds on one render (steps, nesting, string and list sizes); the defaults suit any real template. */
  limits?: Partial<RenderLimits>;
}

/** Raised by a template's own `raise_exception(...)`: the template rejects this conversation. */
class TemplateRaise extends Error {}

const SPECIAL_TOKEN_KEYS = ['bos_token', 'eos_token', 'unk_token', 'sep_token', 'pad_token', 'cls_token', 'mask_token'];

/**
 * Compiles chat templates: a Jinja string, or the `chat_template` value of a tokenizer_config.json
 * (a string, or HF's list of `{name, template}`). Syntax errors throw an InputError naming the line.
 */
export function createChatTemplate(chatTemplate: unknown, options: ChatTemplateOptions = {}): ChatTemplate {
  const where = options.where ?? 'inline template';
  const sources = templateSources(chatTemplate, where);
  const compiled = new Map<string, Compiled>();
  for (const [name, source] of sources) {
    compiled.set(name, compile(source, sources.size > 1 || name !== 'default' ? `${where} (template "${name}")` : where));
  }
  const specialTokens = options.specialTokens ?? {};
  const now = options.now ?? (() => new Date());
  const limits: RenderLimits = { ...DEFAULT_RENDER_LIMITS, ...options.limits };

  const choose = (input: Pick<RenderInput, 'templateName' | 'tools'>): string | { error: string } => {
    if (input.templateName !== undefined) {
      return compiled.has(input.templateName) ? input.templateName : { error: `${where}: no template named "${input.templateName}" (have ${[...compiled.keys()].join(', ')})` };
    }
    if (hasTools(input.tools) && compiled.has('tool_use')) return 'tool_use';
    if (compiled.has('default')) return 'default';
    if (compiled.size === 1) return [...compiled.keys()][0] as string;
    return { error: `${where}: several chat templates (${[...compiled.keys()].join(', ')}) and none named "default"; pass templateName` };
  };

  return {
    where,
    names: [...compiled.keys()],
    specialTokens,
    source(name) {
      const chosen = choose({ templateName: name });
      return typeof chosen === 'string' ? sources.get(chosen) : undefined;
    },
    render(input) {
      const name = choose(input);
      if (typeof name !== 'string') return { ok: false, kind: 'no_template', message: name.error };
      const template = compiled.get(name) as Compiled;
      try {
        return { ok: true, text: renderProgram(template.program, variablesFor(input, specialTokens), { now, limits }).text, templateName: name };
      } catch (failure) {
        const error = failure instanceof RenderError ? failure.error : failure;
        const at = failure instanceof RenderError && failure.statement ? locate(template, failure.statement) : undefined;
        const line = at ? { line: at.line } : {};
        if (error instanceof TemplateRaise) return { ok: false, kind: 'raise_exception', message: `${where}: ${at ? `line ${at.line}: ` : ''}the template raised an exception: ${error.message}`, ...line };
        if (error instanceof RenderLimitError) return { ok: false, kind: 'limit', message: `${where}: rendering stopped: ${error.message}${at ? ` (at line ${at.line}, in ${at.tag})` : ''}`, ...line };
        return { ok: false, kind: 'runtime', message: `${where}: ${runtimePlace(at)}${errorMessage(error)}`, ...line };
      }
    },
  };
}

export interface LoadChatTemplateOptions {
  /** Read special tokens from this tokenizer_config.json; by default the one beside the template, if any. */
  tokenizerConfig?: string;
  now?: () => Date;
}

/**
 * Loads a model's chat template from a `chat_template.jinja`, a `tokenizer_config.json`, or a model
 * directory holding either (the .jinja file wins, as in transformers). Special tokens come from the
 * tokenizer_config.json beside it. Bad files throw an InputError naming the file and line or field.
 */
export async function loadChatTemplate(path: string, options: LoadChatTemplateOptions = {}): Promise<ChatTemplate> {
  const info = await stat(path).catch((error: unknown) => {
    throw new InputError(path, `cannot read the template (${errorMessage(error)})`, 'a chat_template.jinja, a tokenizer_config.json or a model directory');
  });
  let templatePath = path;
  let configPath = options.tokenizerConfig;
  if (info.isDirectory()) {
    const jinja = join(path, 'chat_template.jinja');
    templatePath = (await exists(jinja)) ? jinja : join(path, 'tokenizer_config.json');
  }
  if (configPath === undefined) {
    const beside = join(dirname(templatePath), 'tokenizer_config.json');
    if (beside !== templatePath && (await exists(beside))) configPath = beside;
  }
  const text = await readText(templatePath);
  let chatTemplate: unknown = text;
  let specialTokens: SpecialTokens = {};
  if (templatePath.endsWith('.json')) {
    const config = parseJsonFile(text, templatePath);
    if (!('chat_template' in config)) throw new InputError(templatePath, 'has no chat_template field', 'a string or a list of {name, template}');
    chatTemplate = config.chat_template;
    specialTokens = specialTokensOf(config);
  }
  if (configPath !== undefined && configPath !== templatePath) specialTokens = specialTokensOf(parseJsonFile(await readText(configPath), configPath));
  return createChatTemplate(chatTemplate, { where: templatePath, specialTokens, ...(options.now ? { now: options.now } : {}) });
}

/** HF's `special_tokens_map`: each token as its string (AddedToken objects give their `content`). */
export function specialTokensOf(config: Record<string, unknown>): SpecialTokens {
  const out: SpecialTokens = {};
  for (const key of SPECIAL_TOKEN_KEYS) {
    const token = tokenText(config[key]);
    if (token !== undefined) out[key] = token;
  }
  const extra = config.additional_special_tokens;
  if (Array.isArray(extra)) {
    const tokens = extra.map(tokenText).filter((t): t is string => t !== undefined);
    if (tokens.length > 0) out.additional_special_tokens = tokens;
  }
  return out;
}

function tokenText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (value !== null && typeof value === 'object' && typeof (value as { content?: unknown }).content === 'string') {
    return (value as { content: string }).content;
  }
  return undefined;
}

function templateSources(chatTemplate: unknown, where: string): Map<string, string> {
  if (typeof chatTemplate === 'string') return new Map([['default', chatTemplate]]);
  if (Array.isArray(chatTemplate) && chatTemplate.length > 0) {
    const out = new Map<string, string>();
    chatTemplate.forEach((entry: unknown, i) => {
      const item = entry as { name?: unknown; template?: unknown } | null;
      if (!item || typeof item.name !== 'string' || typeof item.template !== 'string') {
        throw new InputError(`${where}: chat_template.${i}`, 'is not a named template', '{"name": string, "template": string}');
      }
      out.set(item.name, item.template);
    });
    return out;
  }
  throw new InputError(`${where}: chat_template`, 'is neither a template string nor a list of named templates', 'a string or a non-empty list of {name, template}');
}

/** A parsed template, with the text and tokens it came from to place a run-time error on its line. */
interface Compiled {
  source: string;
  tokens: Token[];
  program: Program;
  /** Lines found so far: finding one lexes the template a dozen times, and a bad input tends to fail the same way again. */
  located: Map<Node, StatementLocation | undefined>;
}

function locate(template: Compiled, statement: Node): StatementLocation | undefined {
  if (!template.located.has(statement)) template.located.set(statement, locateStatement(template.source, template.tokens, template.program, statement));
  return template.located.get(statement);
}

function compile(source: string, where: string): Compiled {
  // Jinja2 reads every \r\n and lone \r in a template as \n (its newline_sequence) before
  // trim_blocks looks for the newline after a tag; a template saved with CRLF renders as with LF.
  source = source.replace(/\r\n?/g, '\n');
  try {
    return { source, ...compileTemplate(source), located: new Map() };
  } catch (error) {
    const located = locateSyntaxError(source);
    if (located) throw new InputError(`${where}: line ${located.line}`, `template syntax error: ${located.message}`);
    throw new InputError(where, `template syntax error: ${errorMessage(error)}`);
  }
}

/** `line 12: rendering failed in {{ x + 1 }}: ` as Jinja2's traceback would place it, or just `rendering failed: `. */
function runtimePlace(at: StatementLocation | undefined): string {
  return at ? `line ${at.line}: rendering failed in ${at.tag}: ` : 'rendering failed: ';
}

function hasTools(tools: readonly ChatTool[] | undefined): tools is readonly ChatTool[] {
  return tools !== undefined && tools.length > 0;
}

/** The variables transformers' `apply_chat_template` passes, in its order; kwargs last. */
function variablesFor(input: RenderInput, specialTokens: SpecialTokens): Record<string, unknown> {
  return {
    messages: input.messages,
    ...(hasTools(input.tools) ? { tools: input.tools } : {}),
    add_generation_prompt: input.addGenerationPrompt ?? false,
    ...specialTokens,
    ...input.vars,
  };
}

/**
 * Renders a compiled template with the globals transformers provides; the text and the evaluation
 * steps it took (what the step limit bounds, and a machine-independent measure of a render's cost).
 */
export function renderProgram(program: Program, variables: Record<string, unknown>, options: { now?: () => Date; limits?: RenderLimits } = {}): RenderOutcome {
  const { now = () => new Date(), limits = DEFAULT_RENDER_LIMITS } = options;
  // Globals sit in a parent scope so kwargs may shadow them; `raise_exception` is ours so that a
  // template's deliberate rejection is told apart from a rendering bug.
  const globals = new Environment();
  const builtins: Record<string, unknown> = {
    true: true, false: false, none: null, True: true, False: false, None: null,
    range: (start: number, stop?: number, step?: number) => pythonRange(start, stop, step, limits.maxItems),
    strftime_now: (format: string) => strftime(now(), format),
    raise_exception: (message: unknown) => {
      throw new TemplateRaise(String(message));
    },
  };
  for (const [name, value] of Object.entries(builtins)) globals.set(name, value);
  const scope = new Environment(globals);
  for (const [name, value] of Object.entries(variables)) if (value !== undefined) scope.variables.set(name, runtimeValue(value) as never);
  return renderBounded(program, scope, limits);
}

function pythonRange(start: number, stop: number | undefined, step = 1, maxItems: number): number[] {
  const [from, to] = stop === undefined ? [0, start] : [start, stop];
  if (step === 0) throw new Error('range() arg 3 must not be zero');
  // Counted before building: range(10**9) would otherwise fill the heap before any check ran.
  const count = Math.max(0, Math.ceil((to - from) / step));
  if (!(count <= maxItems)) throw new RenderLimitError(`range() of ${Number.isFinite(count) ? count.toLocaleString('en') : count} items (at most ${maxItems.toLocaleString('en')})`);
  const out: number[] = [];
  for (let i = from; step > 0 ? i < to : i > to; i += step) out.push(i);
  return out;
}

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

/** Python's strftime for the directives chat templates use, in the C locale. */
export function strftime(date: Date, format: string): string {
  const pad = (n: number, width = 2): string => String(n).padStart(width, '0');
  const dayOfYear = Math.floor((Date.UTC(date.getFullYear(), date.getMonth(), date.getDate()) - Date.UTC(date.getFullYear(), 0, 1)) / 86_400_000) + 1;
  const hour12 = date.getHours() % 12 === 0 ? 12 : date.getHours() % 12;
  const directives: Record<string, string> = {
    Y: String(date.getFullYear()), y: pad(date.getFullYear() % 100), m: pad(date.getMonth() + 1), d: pad(date.getDate()),
    B: MONTHS[date.getMonth()] as string, b: (MONTHS[date.getMonth()] as string).slice(0, 3),
    A: DAYS[date.getDay()] as string, a: (DAYS[date.getDay()] as string).slice(0, 3),
    H: pad(date.getHours()), I: pad(hour12), M: pad(date.getMinutes()), S: pad(date.getSeconds()),
    p: date.getHours() < 12 ? 'AM' : 'PM', j: pad(dayOfYear, 3), '%': '%',
  };
  return format.replace(/%([A-Za-z%])/g, (whole, key: string) => directives[key] ?? whole);
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new InputError(path, `cannot read the file (${errorMessage(error)})`);
  }
}

function parseJsonFile(text: string, path: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new InputError(path, `is not valid JSON (${errorMessage(error)})`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new InputError(path, 'is not a JSON object', 'a tokenizer_config.json object');
  return value as Record<string, unknown>;
}
