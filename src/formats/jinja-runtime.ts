import { Environment, Interpreter } from '@huggingface/jinja';
import { printf, strFormat } from './jinja-format.ts';
import { DEFAULT_RENDER_LIMITS, RenderLimitError, tooLong, tooMany, type RenderLimits } from './jinja-limits.ts';
import { roundHalfEven } from './jinja-numbers.ts';
import { EMPTY_TUPLE, TUPLE_END, type Program } from './jinja-syntax.ts';
import {
  ArrayValue,
  FloatValue,
  FunctionValue,
  IntegerValue,
  ObjectValue,
  StringValue,
  TupleValue,
  UNDEFINED,
  bool,
  int,
  isNumber,
  isSequence,
  iterate,
  pythonArithmetic,
  pythonCompare,
  pythonConcat,
  pythonContains,
  pythonEquals,
  pythonJsonDumps,
  pythonStr,
  pythonType,
  truthy,
  type Value,
} from './jinja-python.ts';

// The interpreter chat templates run on. @huggingface/jinja parses and evaluates Jinja; this
// subclass makes it behave as Jinja2 does under transformers, within bounds:
//
// - Bounded (see jinja-limits.ts): every render gets a budget of evaluation steps, a nesting
//   depth and a size cap on strings and lists.
// - Python semantics where the library has JavaScript's: values print the Python way (`None`,
//   `True`, `1.0`, `{'a': 1}`), `==` and `in` compare as Python does (`1 == "1"` is False, lists
//   by value), `"a" + 1` is a TypeError, `%` and `.format` format strings, `"ab" * 3` repeats,
//   `tojson` writes floats as Python's json does, and a dict's methods win over its keys in
//   `d.items()`, as Python's getattr-first lookup does (a tool schema holding an `items` key).
// - Loops as Jinja2 runs them: one `loop` object per loop, each iteration starting without the
//   previous one's `set`s, strings and undefined values iterable.
// - Fast where the library allocates. Creating one of its values costs some 0.3 µs once many
//   value classes flow through the same constructor (V8 then defines class fields the slow
//   way), and its loop made a dozen per iteration: gpt-oss's template, which scans the rest of
//   the conversation for every tool call (quadratic in Jinja2 too), took 3 s at 500 turns.
//   Literals, booleans and loop counters are now shared, lookups allocate nothing.
// - Errors remember the innermost statement they passed through, so a failure names its line.
//
// The hooks override methods the library declares private; the version is pinned in package.json
// and the tests pin each behaviour, so an upgrade that moves them fails loudly.

export { DEFAULT_RENDER_LIMITS, MAX_RENDER_CHARS, MAX_RENDER_DEPTH, MAX_RENDER_ITEMS, MAX_RENDER_MS, MAX_RENDER_STEPS, RenderLimitError, type RenderLimits } from './jinja-limits.ts';

export interface Node {
  type: string;
  [key: string]: unknown;
}

/** The library's private methods we hook, declared so a subclass can call and override them. */
interface Internals {
  run(program: unknown): Value;
  evaluate(node: Node | undefined, environment: Environment): Value;
  evaluateBlock(statements: Node[], environment: Environment): Value;
  evaluateIdentifier(node: Node, environment: Environment): Value;
  evaluateBinaryExpression(node: Node, environment: Environment): Value;
  evaluateMemberExpression(node: Node, environment: Environment): Value;
  evaluateFor(node: Node, environment: Environment): Value;
  evaluateIf(node: Node, environment: Environment): Value;
  evaluateTernaryExpression(node: Node, environment: Environment): Value;
  evaluateTestExpression(node: Node, environment: Environment): Value;
  evaluateUnaryExpression(node: Node, environment: Environment): Value;
  evaluateArguments(args: Node[], environment: Environment): [Value[], Map<string, Value>];
  applyFilter(operand: Value, filter: Node, environment: Environment): Value;
}

const Base = Interpreter as unknown as new (environment: Environment) => Internals;

/** The library's `break` and `continue` signals (exceptions of classes it does not export). */
const [BreakSignal, ContinueSignal] = (['Break', 'Continue'] as const).map((type) => {
  try {
    (new Interpreter() as unknown as Internals).evaluate({ type }, new Environment());
  } catch (signal) {
    return (signal as object).constructor;
  }
  throw new Error(`@huggingface/jinja: {% ${type.toLowerCase()} %} no longer throws`);
}) as [abstract new () => unknown, abstract new () => unknown];

/** A node standing for a value already evaluated, so a delegated call does not evaluate twice. */
const EVALUATED = 'GauntletEvaluated';
const evaluated = (value: Value): Node => ({ type: EVALUATED, value });

/** Statements whose value is not output (an expression statement is `{{ … }}`). */
const SILENT_STATEMENTS = new Set(['Set', 'Macro', 'Comment', 'If', 'For', 'CallStatement', 'FilterStatement', 'Break', 'Continue']);
/** Python dict methods the library implements: `d.items` finds these before a key of the same name. */
const DICT_METHODS = new Set(['items', 'keys', 'values', 'get']);

/** A literal's value, built once per template: values are never mutated, so every render can share it. */
const literals = new WeakMap<Node, Value>();
function literal(node: Node): Value {
  let value = literals.get(node);
  if (value === undefined) {
    const Class = node.type === 'StringLiteral' ? StringValue : node.type === 'IntegerLiteral' ? IntegerValue : FloatValue;
    literals.set(node, (value = new Class(node.value)));
  }
  return value;
}

/** Where a failed render was: the innermost statement the error passed through. */
export interface RenderFailure {
  error: unknown;
  statement: Node;
}

class BoundedInterpreter extends Base {
  private steps = 0;
  private depth = 0;
  private readonly deadline: number;
  failure: RenderFailure | undefined;

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
      switch (node?.type) {
        case undefined: return UNDEFINED;
        case 'StringLiteral':
        case 'IntegerLiteral':
        case 'FloatLiteral':
          return literal(node);
        case 'TupleLiteral': {
          // `(x,)` arrives as `(x, TUPLE_END)` (see jinja-syntax.ts).
          const items = (node.value as Node[]).filter((item) => item.type !== 'Identifier' || item.value !== TUPLE_END);
          return this.checked(new TupleValue(items.map((item) => this.evaluate(item, environment))));
        }
        default:
          return this.checked(super.evaluate(node, environment));
      }
    } finally {
      this.depth--;
    }
  }

  override evaluateBlock(statements: Node[], environment: Environment): Value {
    return text(this.renderBlock(statements, environment));
  }

  override evaluateIf(node: Node, environment: Environment): Value {
    return text(this.renderBlock((truthy(this.evaluate(node.test as Node, environment)) ? node.body : node.alternate) as Node[], environment));
  }

  override evaluateTernaryExpression(node: Node, environment: Environment): Value {
    return this.evaluate((truthy(this.evaluate(node.condition as Node, environment)) ? node.trueExpr : node.falseExpr) as Node, environment);
  }

  override evaluateTestExpression(node: Node, environment: Environment): Value {
    const operand = this.evaluate(node.operand as Node, environment);
    const name = (node.test as Node).value as string;
    // Python's bool is a number, so Jinja2's `number` test passes True and False (`integer` does not).
    if (name === 'number' && operand.type === 'BooleanValue') return bool(!node.negate);
    const test = environment.tests.get(name) as ((value: Value) => boolean) | undefined;
    if (!test) throw new Error(`Unknown test: ${name}`);
    return bool(test(operand) !== node.negate);
  }

  override evaluateUnaryExpression(node: Node, environment: Environment): Value {
    if ((node.operator as { value: string }).value !== 'not') return super.evaluateUnaryExpression(node, environment);
    return bool(!truthy(this.evaluate(node.argument as Node, environment)));
  }

  /** A block's output. Each loop iteration runs one, so an empty loop body still costs a step. */
  private renderBlock(statements: Node[], environment: Environment): string {
    this.step();
    let out = '';
    for (const statement of statements) {
      let value: Value;
      try {
        value = this.evaluate(statement, environment);
      } catch (error) {
        // Innermost first: an enclosing block sees the failure already placed. Text cannot fail.
        const signal = error instanceof BreakSignal || error instanceof ContinueSignal;
        if (!signal && this.failure?.error !== error && statement.type !== 'StringLiteral') this.failure = { error, statement };
        throw error;
      }
      if (SILENT_STATEMENTS.has(statement.type)) {
        if (value.type !== 'NullValue' && value.type !== 'UndefinedValue') out += value.toString();
      } else {
        out += pythonStr(value);
      }
      if (out.length > this.limits.maxChars) throw tooLong(out.length, this.limits.maxChars);
    }
    return out;
  }

  override evaluateIdentifier(node: Node, environment: Environment): Value {
    if (node.value === EMPTY_TUPLE) return new TupleValue([]);
    // The library finds an unknown name by catching an Error it throws, which costs a stack trace.
    for (let scope: Environment | undefined = environment; scope; scope = scope.parent) {
      const value = scope.variables.get(node.value as string) as Value | undefined;
      if (value !== undefined) return value;
    }
    return UNDEFINED;
  }

  override evaluateBinaryExpression(node: Node, environment: Environment): Value {
    const operator = (node.operator as { value: string }).value;
    const left = this.evaluate(node.left as Node, environment);
    // Python's `and`/`or` give back an operand, not a boolean.
    if (operator === 'and') return truthy(left) ? this.evaluate(node.right as Node, environment) : left;
    if (operator === 'or') return truthy(left) ? left : this.evaluate(node.right as Node, environment);
    const right = this.evaluate(node.right as Node, environment);
    const result = this.binary(operator, left, right) ?? super.evaluateBinaryExpression({ ...node, left: evaluated(left), right: evaluated(right) }, environment);
    return this.checked(result);
  }

  /** The operators whose Python meaning the library lacks; undefined leaves the rest to it. */
  private binary(operator: string, left: Value, right: Value): Value | undefined {
    switch (operator) {
      case '~': return new StringValue(pythonStr(left) + pythonStr(right));
      case '==': return bool(pythonEquals(left, right));
      case '!=': return bool(!pythonEquals(left, right));
      case 'in': return bool(pythonContains(right, left));
      case 'not in': return bool(!pythonContains(right, left));
      case '<':
      case '>':
      case '<=':
      case '>=': {
        const order = pythonCompare(left, right, operator);
        return bool(operator === '<' ? order < 0 : operator === '>' ? order > 0 : operator === '<=' ? order <= 0 : order >= 0);
      }
      case '+':
        return isNumber(left) && isNumber(right) ? pythonArithmetic(operator, left, right) : pythonConcat(left, right);
      case '%':
        if (left.type === 'StringValue') return new StringValue(printf(left.value as string, right, this.limits.maxChars));
        break;
      case '*': {
        const repeated = this.repeat(left, right);
        if (repeated) return repeated;
        break;
      }
      case '-':
      case '/':
      case '//':
      case '**':
        break;
      default:
        return undefined;
    }
    if (!isNumber(left) || !isNumber(right)) throw new TypeError(`unsupported operand type(s) for ${operator}: '${pythonType(left)}' and '${pythonType(right)}'`);
    return pythonArithmetic(operator, left, right);
  }

  /** `'ab' * 3`, `[x] * 2`, either way round, sized before they are built; undefined when neither side is a sequence. */
  private repeat(left: Value, right: Value): Value | undefined {
    const repeatable = (value: Value): boolean => value.type === 'StringValue' || isSequence(value);
    const [sequence, count] = repeatable(left) ? [left, right] : repeatable(right) ? [right, left] : [undefined, undefined];
    if (sequence === undefined || count === undefined) return undefined;
    if (count.type !== 'IntegerValue' && count.type !== 'BooleanValue') throw new TypeError(`can't multiply sequence by non-int of type '${pythonType(count)}'`);
    const times = Math.max(0, Number(count.value));
    if (sequence.type === 'StringValue') {
      const text = sequence.value as string;
      if (text.length * times > this.limits.maxChars) throw tooLong(text.length * times, this.limits.maxChars);
      return new StringValue(text.repeat(times));
    }
    const items = sequence.value as Value[];
    if (items.length * times > this.limits.maxItems) throw tooMany(items.length * times, this.limits.maxItems);
    const Class = sequence.constructor as new (value: Value[]) => Value;
    return new Class(Array.from({ length: items.length * times }, (_, i) => items[i % items.length] as Value));
  }

  override evaluateMemberExpression(node: Node, environment: Environment): Value {
    const object = this.evaluate(node.object as Node, environment);
    const property = node.property as Node;
    if (!node.computed && property.type === 'Identifier') {
      const name = property.value as string;
      if (object.type === 'ObjectValue') {
        if (DICT_METHODS.has(name)) return object.builtins.get(name) as Value;
        return (object.value as Map<string, Value>).get(name) ?? object.builtins.get(name) ?? UNDEFINED;
      }
      if (object.type === 'NamespaceValue') return (object.value as Map<string, Value>).get(name) ?? UNDEFINED;
      if (object.type === 'StringValue' && name === 'format') {
        return new FunctionValue((args: Value[]) => {
          const last = args.at(-1);
          const keywords = last?.type === 'KeywordArgumentsValue' ? (last.value as Map<string, Value>) : new Map<string, Value>();
          const positional = last?.type === 'KeywordArgumentsValue' ? args.slice(0, -1) : args;
          return this.checked(new StringValue(strFormat(object.value as string, positional, keywords, this.limits.maxChars)));
        });
      }
    }
    return super.evaluateMemberExpression({ ...node, object: evaluated(object) }, environment);
  }

  override applyFilter(operand: Value, filter: Node, environment: Environment): Value {
    const name = filter.type === 'Identifier' ? (filter.value as string) : filter.type === 'CallExpression' ? ((filter.callee as Node).value as string) : undefined;
    const call = (): [Value[], Map<string, Value>] => (filter.type === 'CallExpression' ? this.evaluateArguments(filter.args as Node[], environment) : [[], new Map()]);
    switch (name) {
      case 'string':
        if (filter.type === 'Identifier') return this.checked(new StringValue(pythonStr(operand)));
        break;
      case 'tojson': {
        // transformers' filter: json.dumps(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False)
        const [positional, keywords] = call();
        const argument = (index: number, key: string): Value | undefined => keywords.get(key) ?? positional[index];
        const indent = argument(1, 'indent');
        if (indent !== undefined && isNumber(indent) && Number(indent.value) > this.limits.maxChars) throw tooLong(Number(indent.value), this.limits.maxChars);
        const separators = argument(2, 'separators');
        return this.checked(
          new StringValue(
            pythonJsonDumps(operand, {
              ensureAscii: truthy(argument(0, 'ensure_ascii') ?? bool(false)),
              indent: indent === undefined || indent.type === 'NullValue' ? undefined : indent.type === 'StringValue' ? (indent.value as string) : ' '.repeat(Math.max(0, Number(indent.value))),
              separators: separators !== undefined && isSequence(separators) ? ((separators.value as Value[]).map(pythonStr) as [string, string]) : undefined,
              sortKeys: truthy(argument(3, 'sort_keys') ?? bool(false)),
            }),
          ),
        );
      }
      case 'round': {
        // Jinja2's: round(value, precision=0, method='common'); `common` is Python's round (half to
        // even on the exact value, an int staying an int), `ceil` and `floor` divide back: a float.
        const [positional, keywords] = call();
        const precision = keywords.get('precision') ?? positional[0];
        const method = keywords.get('method') ?? positional[1];
        const places = precision === undefined ? 0 : Number(precision.value);
        const how = method === undefined ? 'common' : pythonStr(method);
        if (!isNumber(operand)) throw new TypeError(`round filter: expected a number, got ${pythonType(operand)}`);
        if (!Number.isInteger(places)) throw new TypeError('round filter: precision must be an integer');
        const x = Number(operand.value);
        if (how === 'common') return operand.type === 'FloatValue' ? new FloatValue(roundHalfEven(x, places)) : places >= 0 ? int(x) : int(roundHalfEven(x, places));
        if (how !== 'ceil' && how !== 'floor') throw new TypeError("round filter: method must be 'common', 'ceil' or 'floor'");
        const scale = 10 ** places;
        return new FloatValue((how === 'ceil' ? Math.ceil(x * scale) : Math.floor(x * scale)) / scale);
      }
      case 'center': {
        // Python's str.center: the odd space goes right, unless the width is odd as well.
        const [positional, keywords] = call();
        const widthValue = keywords.get('width') ?? positional[0];
        const width = widthValue === undefined ? 80 : Number(widthValue.value);
        const text = pythonStr(operand);
        if (width > this.limits.maxChars) throw tooLong(width, this.limits.maxChars);
        const margin = width - [...text].length;
        if (margin <= 0) return this.checked(new StringValue(text));
        const left = Math.floor(margin / 2) + (margin & width & 1);
        return this.checked(new StringValue(' '.repeat(left) + text + ' '.repeat(margin - left)));
      }
      case 'dictsort': {
        // Jinja2 yields (key, value) tuples, which print as tuples.
        const sorted = super.applyFilter(operand, filter, environment);
        if (sorted.type !== 'ArrayValue') return sorted;
        return new ArrayValue((sorted.value as Value[]).map((pair) => (pair.type === 'ArrayValue' ? new TupleValue(pair.value) : pair)));
      }
      case 'format': {
        // Jinja2's `format` filter: `value % args` (or `% kwargs`).
        const [positional, keywords] = call();
        if (positional.length > 0 && keywords.size > 0) throw new TypeError("format filter: can't handle positional and keyword arguments at the same time");
        const args = keywords.size > 0 ? new ObjectValue(keywords) : new TupleValue(positional);
        return this.checked(new StringValue(printf(pythonStr(operand), args, this.limits.maxChars)));
      }
    }
    return super.applyFilter(operand, filter, environment);
  }

  override evaluateFor(node: Node, environment: Environment): Value {
    const scope = new Environment(environment);
    let iterableNode = node.iterable as Node;
    let test: Node | undefined;
    if (iterableNode.type === 'SelectExpression') {
      test = iterableNode.test as Node;
      iterableNode = iterableNode.lhs as Node;
    }
    const bind = binder(node.loopvar as Node);
    let items = iterate(this.evaluate(iterableNode, scope));
    if (test) {
      const filter = test;
      items = items.filter((item) => {
        bind(scope, item);
        return truthy(this.evaluate(filter, scope));
      });
    }
    // One loop object for the whole loop, as Jinja2's LoopContext is (a stored `loop` sees it advance).
    const count = items.length;
    let index = 0;
    const loop = new Map<string, Value>([['length', int(count)]]);
    loop.set(
      'cycle',
      new FunctionValue((args: Value[]) => {
        const choices = args.filter((arg) => arg.type !== 'KeywordArgumentsValue');
        return choices[index % choices.length] ?? UNDEFINED;
      }),
    );
    const loopValue = new ObjectValue(loop);
    let out = '';
    let completed = false;
    for (; index < count; index++) {
      loop.set('index', int(index + 1)).set('index0', int(index)).set('revindex', int(count - index)).set('revindex0', int(count - index - 1));
      loop.set('first', bool(index === 0)).set('last', bool(index === count - 1)).set('previtem', items[index - 1] ?? UNDEFINED).set('nextitem', items[index + 1] ?? UNDEFINED);
      // Jinja2 starts every iteration without the previous one's `set`s.
      scope.variables.clear();
      assign(scope, 'loop', loopValue);
      bind(scope, items[index] as Value);
      try {
        out += this.renderBlock(node.body as Node[], scope);
      } catch (signal) {
        if (signal instanceof ContinueSignal) continue;
        if (signal instanceof BreakSignal) break;
        throw signal;
      }
      // As in Jinja2, `else` runs unless some iteration ran its body to the end.
      completed = true;
      if (out.length > this.limits.maxChars) throw tooLong(out.length, this.limits.maxChars);
    }
    if (!completed) out += this.renderBlock(node.defaultBlock as Node[], scope);
    return text(out);
  }

  private step(): void {
    if (++this.steps > this.limits.maxSteps) {
      throw new RenderLimitError(`the template took more than ${this.limits.maxSteps.toLocaleString('en')} evaluation steps (an unbounded or runaway loop?)`);
    }
    if ((this.steps & 4095) === 0 && Date.now() > this.deadline) {
      throw new RenderLimitError(`the template ran for more than ${this.limits.maxMs.toLocaleString('en')} ms`);
    }
  }

  /** Steps taken so far: the deterministic measure of a render's cost. */
  get stepsTaken(): number {
    return this.steps;
  }

  private checked(value: Value): Value {
    if (value.type === 'StringValue' && (value.value as string).length > this.limits.maxChars) throw tooLong((value.value as string).length, this.limits.maxChars);
    if (isSequence(value) && (value.value as unknown[]).length > this.limits.maxItems) throw tooMany((value.value as unknown[]).length, this.limits.maxItems);
    return value;
  }
}

/** Sets a variable in `scope` (the library types its values with classes it does not export). */
function assign(scope: Environment, name: string, value: Value): void {
  scope.variables.set(name, value as unknown as ReturnType<Environment['lookupVariable']>);
}

const EMPTY = new StringValue('');
/** A block's output as a value; the empty output of a false `if` or a `set` is shared. */
const text = (out: string): Value => (out === '' ? EMPTY : new StringValue(out));

/** Assigns a loop's item to its variable, or unpacks it into several (`for key, value in …`). */
function binder(loopvar: Node): (scope: Environment, item: Value) => void {
  if (loopvar.type === 'Identifier') return (scope, item) => assign(scope, loopvar.value as string, item);
  if (loopvar.type !== 'TupleLiteral') throw new SyntaxError(`Invalid loop variable(s): ${loopvar.type}`);
  const names = (loopvar.value as Node[]).map((target) => {
    if (target.type !== 'Identifier') throw new SyntaxError(`Cannot unpack to ${target.type} in a for loop`);
    return target.value as string;
  });
  return (scope, item) => {
    const parts = isSequence(item) || item.type === 'StringValue' ? iterate(item) : undefined;
    if (parts === undefined) throw new TypeError(`cannot unpack non-iterable ${pythonType(item)} object`);
    if (parts.length < names.length) throw new TypeError(`not enough values to unpack (expected ${names.length}, got ${parts.length})`);
    if (parts.length > names.length) throw new TypeError(`too many values to unpack (expected ${names.length})`);
    names.forEach((name, i) => assign(scope, name, parts[i] as Value));
  };
}

/** A render that failed, with the statement it failed in (when one was found). */
export class RenderError extends Error {
  constructor(
    readonly error: unknown,
    readonly statement: Node | undefined,
  ) {
    super(error instanceof Error ? error.message : String(error));
  }
}

export interface RenderOutcome {
  text: string;
  /** Evaluation steps the render took (what maxSteps bounds). */
  steps: number;
}

/** Renders a parsed template in `scope` within `limits`. Failures throw a RenderError carrying the original error and where it happened. */
export function renderBounded(program: Program, scope: Environment, limits: RenderLimits = DEFAULT_RENDER_LIMITS): RenderOutcome {
  const interpreter = new BoundedInterpreter(scope, limits);
  try {
    return { text: String(interpreter.run(program).value), steps: interpreter.stepsTaken };
  } catch (error) {
    const { failure } = interpreter;
    const statement = failure !== undefined && failure.error === error ? failure.statement : undefined;
    // The cap above is checked per node; a single filter (indent, join) can still overrun V8.
    if (error instanceof RangeError && /Invalid string length|Maximum call stack/.test(error.message)) {
      throw new RenderError(new RenderLimitError(`the template exhausted the engine (${error.message})`), statement);
    }
    throw new RenderError(error, statement);
  }
}
