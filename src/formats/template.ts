import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Environment } from '@huggingface/jinja';
import { InputError, MAX_JSON_DEPTH, errorMessage, nestsDeeperThan } from '../core/index.ts';
import type { ChatMessage, ChatTool } from './chat.ts';
import { locateStatement, locateSyntaxError, type StatementLocation } from './jinja-diagnostics.ts';
import { runtimeValue } from './jinja-python.ts';
import { DEFAULT_RENDER_LIMITS, RenderError, RenderLimitError, renderBounded, type Node, type RenderLimits, type RenderOutcome } from './jinja-runtime.ts';
import { compileTemplate, type Program, type Token } from './jinja-syntax.ts';
import { readModelJson, readTextFile } from './model-files.ts';

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

/** The longest template compiled (and the most bytes read of a .jinja file): published chat templates are under 64 KB; this bounds the time any template takes to compile. */
export const MAX_TEMPLATE_CHARS = 1024 * 1024;
/**
 * The longest run of whitespace in a template. The Jinja library's lexer takes time quadratic in
 * such a run (a regular expression it runs over the whole source, looking for `{% generation %}`,
 * retries at each of its characters): 100,000 spaces take seconds, a million an hour. Published
 * templates indent with runs of under 40.
 */
export const MAX_TEMPLATE_WHITESPACE_RUN = 1000;

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
      // Converting the input for the template recurses through it; deeper than any real message
      // (a schema, tool arguments) it would overflow the stack and fail with no word of where.
      const deep = (['messages', 'tools', 'vars'] as const).find((key) => nestsDeeperThan(input[key], MAX_JSON_DEPTH));
      if (deep) return { ok: false, kind: 'limit', message: `${where}: rendering refused: the ${deep} nest arrays and objects more than ${MAX_JSON_DEPTH} levels deep` };
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
  let named: { name: string; template: string }[] = [];
  if (info.isDirectory()) {
    const jinja = join(path, 'chat_template.jinja');
    const config = join(path, 'tokenizer_config.json');
    if (await exists(jinja)) {
      templatePath = jinja;
      named = await additionalTemplates(path);
    } else if (await exists(config)) templatePath = config;
    else throw new InputError(path, 'holds neither chat_template.jinja nor tokenizer_config.json', 'a model directory with its chat template');
  }
  if (configPath === undefined) {
    const beside = join(dirname(templatePath), 'tokenizer_config.json');
    if (beside !== templatePath && (await exists(beside))) configPath = beside;
  }
  let chatTemplate: unknown;
  let specialTokens: SpecialTokens = {};
  if (templatePath.endsWith('.json')) {
    const config = await readModelJson(templatePath);
    if (!Object.hasOwn(config, 'chat_template')) throw new InputError(templatePath, 'has no chat_template field', 'a string or a list of {name, template}');
    chatTemplate = config.chat_template;
    specialTokens = specialTokensOf(config, templatePath);
  } else {
    // A byte order mark stays: transformers reads the file as `utf-8` and so renders it too.
    const text = await readTextFile(templatePath, MAX_TEMPLATE_CHARS, { kind: 'a chat template' });
    chatTemplate = named.length > 0 ? [{ name: 'default', template: text }, ...named] : text;
  }
  if (configPath !== undefined && configPath !== templatePath) specialTokens = specialTokensOf(await readModelJson(configPath), configPath);
  return createChatTemplate(chatTemplate, { where: templatePath, specialTokens, ...(options.now ? { now: options.now } : {}) });
}

/**
 * Named templates saved beside chat_template.jinja, as transformers saves a list-form
 * chat_template: `additional_chat_templates/<name>.jinja`, the .jinja file being `default`.
 */
async function additionalTemplates(dir: string): Promise<{ name: string; template: string }[]> {
  const folder = join(dir, 'additional_chat_templates');
  if (!(await exists(folder))) return [];
  let entries: string[];
  try {
    entries = (await readdir(folder)).filter((name) => name.endsWith('.jinja')).sort();
  } catch (error) {
    throw new InputError(folder, `cannot read the folder (${errorMessage(error)})`);
  }
  const out: { name: string; template: string }[] = [];
  for (const entry of entries) out.push({ name: basename(entry, '.jinja'), template: await readTextFile(join(folder, entry), MAX_TEMPLATE_CHARS, { kind: 'a chat template' }) });
  return out;
}

/**
 * HF's `special_tokens_map`: each token as its string (AddedToken objects give their `content`).
 * A token of another type is an error naming the field, as transformers refuses it too.
 */
export function specialTokensOf(config: Record<string, unknown>, where = 'tokenizer_config.json'): SpecialTokens {
  const out: SpecialTokens = {};
  for (const key of SPECIAL_TOKEN_KEYS) {
    if (!Object.hasOwn(config, key) || config[key] === null) continue;
    out[key] = tokenText(config[key], `${where}: ${key}`);
  }
  const extra = Object.hasOwn(config, 'additional_special_tokens') ? config.additional_special_tokens : null;
  if (extra !== null && extra !== undefined) {
    if (!Array.isArray(extra)) throw new InputError(`${where}: additional_special_tokens`, `is ${JSON.stringify(extra)?.slice(0, 80)}`, 'a list of tokens');
    const tokens = extra.map((token: unknown, i) => tokenText(token, `${where}: additional_special_tokens.${i}`));
    if (tokens.length > 0) out.additional_special_tokens = tokens;
  }
  return out;
}

function tokenText(value: unknown, where: string): string {
  if (typeof value === 'string') return value;
  if (value !== null && typeof value === 'object' && typeof (value as { content?: unknown }).content === 'string') {
    return (value as { content: string }).content;
  }
  throw new InputError(where, `is ${JSON.stringify(value)?.slice(0, 80)}`, 'a token: a string or {"content": string, …}');
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
      // transformers keeps the last of two same-named templates without a word; which one is meant cannot be told.
      if (out.has(item.name)) throw new InputError(`${where}: chat_template.${i}`, `is a second template named "${item.name}"`, 'one template per name');
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
  checkSize(source, where);
  try {
    return { source, ...compileTemplate(source), located: new Map() };
  } catch (error) {
    const located = locateSyntaxError(source);
    if (located) throw new InputError(`${where}: line ${located.line}`, `template syntax error: ${located.message}`);
    throw new InputError(where, `template syntax error: ${errorMessage(error)}`);
  }
}

/** Refuses, before lexing, templates whose size or whitespace runs would take the lexer minutes to hours. */
function checkSize(source: string, where: string): void {
  if (source.length > MAX_TEMPLATE_CHARS) {
    throw new InputError(where, `the template is ${source.length.toLocaleString('en')} characters, more than ${MAX_TEMPLATE_CHARS.toLocaleString('en')}`, 'a chat template (published ones are under 64 KB)');
  }
  // One pass, with the lexer's own notion of whitespace (\s).
  let start = 0;
  for (let i = 0; i <= source.length; i++) {
    if (i < source.length && /\s/.test(source[i] as string)) continue;
    if (i - start > MAX_TEMPLATE_WHITESPACE_RUN) {
      const line = source.slice(0, start).split('\n').length;
      throw new InputError(
        `${where}: line ${line}`,
        `holds a run of ${(i - start).toLocaleString('en')} whitespace characters, more than ${MAX_TEMPLATE_WHITESPACE_RUN.toLocaleString('en')} (the template lexer takes time quadratic in such a run)`,
        'a chat template indented as published ones are',
      );
    }
    start = i + 1;
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

/** Whether `path` exists; any failure but "no such file" (a symlink loop, no permission) is an error naming it, not an absence. */
async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw new InputError(path, `cannot read it (${errorMessage(error)})`);
  }
}
