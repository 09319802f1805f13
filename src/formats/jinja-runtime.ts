import { Interpreter, Template, type Environment } from '@huggingface/jinja';

// The interpreter chat templates run on. @huggingface/jinja parses and evaluates Jinja, but two
// things it does not do matter here:
//
// - It is unbounded. A template from a model repository runs on the runner's main thread, and a
//   loop over range(10**8), nested loops or a string doubled forty times would hang or exhaust the
//   process. Every render gets a budget of evaluation steps (deterministic: the same template and
//   input pass or fail alike on a busy machine), a nesting depth and a size cap on strings and lists.
// - It prints values the JavaScript way where Jinja2 (what transformers renders with) prints them
//   the Python way: `{{ none }}` is "None", `{{ true }}` "True", a dict `{'a': 1}`, a list `['x']`,
//   for output, `~` and `|string`. `"a" + 1` is a TypeError, not "a1" (nor "a[object Map]"). And a
//   dict's methods win over its keys in `d.items()`, as Python's getattr-first lookup does, so a
//   tool schema holding an `items` key (every array parameter) still iterates.
//
// The hooks override methods the library declares private; the version is pinned in package.json
// and template.test.ts pins each behaviour, so an upgrade that moves them fails loudly.

/** Steps (node evaluations) one render may take: a 100-turn conversation takes well under 1%. */
export const MAX_RENDER_STEPS = 20_000_000;
/** How deeply evaluation may nest (macros calling macros): far above any real template, below V8's stack. */
export const MAX_RENDER_DEPTH = 400;
/** The longest string a render may build: 32 Mi characters, some 8M tokens. */
export const MAX_RENDER_CHARS = 32 * 1024 * 1024;
/** The most items a list in a render (range() included) may hold. */
export const MAX_RENDER_ITEMS = 1_000_000;
/**
 * A wall-clock backstop for steps that each do much work (a test over a 30 MB string in a long
 * loop); real templates finish in milliseconds, a 1,000-turn gpt-oss conversation in seconds.
 */
export const MAX_RENDER_MS = 30_000;

export interface RenderLimits {
  maxSteps: number;
  maxDepth: number;
  maxChars: number;
  maxItems: number;
  maxMs: number;
}

export const DEFAULT_RENDER_LIMITS: RenderLimits = { maxSteps: MAX_RENDER_STEPS, maxDepth: MAX_RENDER_DEPTH, maxChars: MAX_RENDER_CHARS, maxItems: MAX_RENDER_ITEMS, maxMs: MAX_RENDER_MS };

/** A render stopped by a limit: the template, not the conversation, is at fault. */
export class RenderLimitError extends Error {}

/** What we use of the library's runtime values (its classes are not exported). */
interface Value {
  type: string;
  value: unknown;
  builtins: Map<string, Value>;
  toString(): string;
}

interface Node {
  type: string;
  [key: string]: unknown;
}

/** The library's private methods we hook, declared so a subclass can call and override them. */
interface Internals {
  run(program: unknown): Value;
  evaluate(node: Node | undefined, environment: Environment): Value;
  evaluateBlock(statements: Node[], environment: Environment): Value;
  evaluateBinaryExpression(node: Node, environment: Environment): Value;
  evaluateMemberExpression(node: Node, environment: Environment): Value;
  applyFilter(operand: Value, filter: Node, environment: Environment): Value;
}

const Base = Interpreter as unknown as new (environment: Environment) => Internals;

/** The library's StringValue class, taken from an empty render. */
const StringValue = (new Interpreter().run(new Template('').parsed) as unknown as Value).constructor as new (value: string) => Value;

/** A node standing for a value already evaluated, so a delegated call does not evaluate twice. */
const EVALUATED = 'GauntletEvaluated';
const evaluated = (value: Value): Node => ({ type: EVALUATED, value });

/** Statements whose value is not output (an expression statement is `{{ … }}`). */
const SILENT_STATEMENTS = new Set(['Set', 'Macro', 'Comment', 'If', 'For', 'CallStatement', 'FilterStatement', 'Break', 'Continue']);
/** Python dict methods the library implements: `d.items` finds these before a key of the same name. */
const DICT_METHODS = new Set(['items', 'keys', 'values', 'get']);

class BoundedInterpreter extends Base {
  private steps = 0;
  private depth = 0;
  private readonly deadline: number;

  constructor(
    environment: Environment,
    private readonly limits: RenderLimits,
  ) {
    super(environment);
    this.deadline = Date.now() + limits.maxMs;
  }

  override evaluate(node: Node | undefined, environment: Environment): Value {
    if (node?.type === EVALUATED) return node.value as Value;
    this.step();
    if (++this.depth > this.limits.maxDepth) {
      throw new RenderLimitError(`the template nested more than ${this.limits.maxDepth} levels deep (a macro calling itself without end?)`);
    }
    try {
      return this.checked(super.evaluate(node, environment));
    } finally {
      this.depth--;
    }
  }

  override evaluateBlock(statements: Node[], environment: Environment): Value {
    // Each loop iteration runs a block, so an empty loop body still costs a step.
    this.step();
    let out = '';
    for (const statement of statements) {
      const value = this.evaluate(statement, environment);
      if (SILENT_STATEMENTS.has(statement.type)) {
        if (value.type !== 'NullValue' && value.type !== 'UndefinedValue') out += value.toString();
      } else {
        out += pythonStr(value);
      }
      if (out.length > this.limits.maxChars) throw this.tooLong(out.length);
    }
    return new StringValue(out);
  }

  override evaluateBinaryExpression(node: Node, environment: Environment): Value {
    const operator = (node.operator as { value: string }).value;
    if (operator !== '~' && operator !== '+') return super.evaluateBinaryExpression(node, environment);
    const left = this.evaluate(node.left as Node, environment);
    const right = this.evaluate(node.right as Node, environment);
    if (operator === '~') return this.checked(new StringValue(pythonStr(left) + pythonStr(right)));
    const strings = Number(left.type === 'StringValue') + Number(right.type === 'StringValue');
    if (strings === 1) {
      throw new TypeError(left.type === 'StringValue' ? `can only concatenate str (not "${pythonType(right)}") to str` : `unsupported operand type(s) for +: '${pythonType(left)}' and 'str'`);
    }
    return this.checked(super.evaluateBinaryExpression({ ...node, left: evaluated(left), right: evaluated(right) }, environment));
  }

  override evaluateMemberExpression(node: Node, environment: Environment): Value {
    const object = this.evaluate(node.object as Node, environment);
    const property = node.property as Node;
    if (!node.computed && property.type === 'Identifier' && object.type === 'ObjectValue' && DICT_METHODS.has(property.value as string)) {
      return object.builtins.get(property.value as string) as Value;
    }
    return super.evaluateMemberExpression({ ...node, object: evaluated(object) }, environment);
  }

  override applyFilter(operand: Value, filter: Node, environment: Environment): Value {
    if (filter.type === 'Identifier' && filter.value === 'string') return this.checked(new StringValue(pythonStr(operand)));
    return super.applyFilter(operand, filter, environment);
  }

  private step(): void {
    if (++this.steps > this.limits.maxSteps) {
      throw new RenderLimitError(`the template took more than ${this.limits.maxSteps.toLocaleString('en')} evaluation steps (an unbounded or runaway loop?)`);
    }
    if ((this.steps & 4095) === 0 && Date.now() > this.deadline) {
      throw new RenderLimitError(`the template ran for more than ${this.limits.maxMs.toLocaleString('en')} ms`);
    }
  }

  private checked(value: Value): Value {
    if (value.type === 'StringValue' && (value.value as string).length > this.limits.maxChars) throw this.tooLong((value.value as string).length);
    if ((value.type === 'ArrayValue' || value.type === 'TupleValue') && (value.value as unknown[]).length > this.limits.maxItems) {
      throw new RenderLimitError(`the template built a list of ${(value.value as unknown[]).length.toLocaleString('en')} items (at most ${this.limits.maxItems.toLocaleString('en')})`);
    }
    return value;
  }

  private tooLong(length: number): RenderLimitError {
    return new RenderLimitError(`the template built a string of ${length.toLocaleString('en')} characters (at most ${this.limits.maxChars.toLocaleString('en')})`);
  }
}

/** Renders a parsed template in `scope` within `limits`; the output string. */
export function renderBounded(template: Template, scope: Environment, limits: RenderLimits = DEFAULT_RENDER_LIMITS): string {
  try {
    return String(new BoundedInterpreter(scope, limits).run(template.parsed).value);
  } catch (error) {
    // The cap above is checked per node; a single filter (indent, join) can still overrun V8.
    if (error instanceof RangeError && /Invalid string length|Maximum call stack/.test(error.message)) {
      throw new RenderLimitError(`the template exhausted the engine (${error.message})`);
    }
    throw error;
  }
}

/** Python's `type(x).__name__` for a runtime value, for TypeError messages as Python words them. */
function pythonType(value: Value): string {
  switch (value.type) {
    case 'StringValue': return 'str';
    case 'IntegerValue': return 'int';
    case 'FloatValue': return 'float';
    case 'BooleanValue': return 'bool';
    case 'NullValue': return 'NoneType';
    case 'ArrayValue': return 'list';
    case 'TupleValue': return 'tuple';
    case 'ObjectValue': return 'dict';
    case 'UndefinedValue': return 'Undefined';
    default: return value.type;
  }
}

/** Python's `str(x)`, as Jinja2 prints a value. */
export function pythonStr(value: Value): string {
  switch (value.type) {
    case 'StringValue': return value.value as string;
    case 'UndefinedValue': return '';
    default: return pythonRepr(value);
  }
}

/** Python's `repr(x)`: how a value prints inside a list or dict. */
function pythonRepr(value: Value): string {
  switch (value.type) {
    case 'StringValue': return pythonStringRepr(value.value as string);
    case 'IntegerValue': return Number.isSafeInteger(value.value) ? String(value.value) : BigInt(value.value as number).toString();
    case 'FloatValue': return pythonFloat(value.value as number);
    case 'BooleanValue': return value.value ? 'True' : 'False';
    case 'NullValue': return 'None';
    case 'UndefinedValue': return '';
    case 'ArrayValue': return `[${(value.value as Value[]).map(pythonRepr).join(', ')}]`;
    case 'TupleValue': {
      const items = (value.value as Value[]).map(pythonRepr);
      return items.length === 1 ? `(${items[0]},)` : `(${items.join(', ')})`;
    }
    case 'ObjectValue':
      return `{${[...(value.value as Map<string, Value>)].map(([key, item]) => `${pythonStringRepr(key)}: ${pythonRepr(item)}`).join(', ')}}`;
    default: return value.toString();
  }
}

/** Python's float repr: shortest round-trip digits, scientific below 1e-4 and from 1e16. */
export function pythonFloat(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (Object.is(x, -0)) return '-0.0';
  const [mantissa = '0', exponentText = '0'] = x.toExponential().split('e');
  const exponent = Number(exponentText);
  if (exponent < -4 || exponent >= 16) {
    return `${mantissa}e${exponent < 0 ? '-' : '+'}${String(Math.abs(exponent)).padStart(2, '0')}`;
  }
  // JavaScript writes fixed notation from 1e-7 to 1e21, which covers this range.
  const fixed = String(x);
  return fixed.includes('.') ? fixed : `${fixed}.0`;
}

// Characters Python's str.isprintable() rejects (space aside), escaped in a repr.
const UNPRINTABLE = /^[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]$/u;

/** Python's repr of a str: single quotes unless only double quotes avoid escaping. */
function pythonStringRepr(text: string): string {
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  let out = '';
  for (const char of text) {
    if (char === '\\') out += '\\\\';
    else if (char === quote) out += `\\${quote}`;
    else if (char === '\n') out += '\\n';
    else if (char === '\r') out += '\\r';
    else if (char === '\t') out += '\\t';
    else if (char !== ' ' && UNPRINTABLE.test(char)) {
      const code = char.codePointAt(0) as number;
      out += code < 0x100 ? `\\x${hex(code, 2)}` : code < 0x10000 ? `\\u${hex(code, 4)}` : `\\U${hex(code, 8)}`;
    } else out += char;
  }
  return `${quote}${out}${quote}`;
}

function hex(code: number, width: number): string {
  return code.toString(16).padStart(width, '0');
}
