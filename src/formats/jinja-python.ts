import { Environment, Interpreter, Template } from '@huggingface/jinja';
import { floatsKept, WrittenFloat } from './json-source.ts';

// Python's view of @huggingface/jinja's runtime values: how Jinja2 prints them (str, repr, the
// float repr), compares them (==, in) and how transformers' `tojson` writes them. The library's
// value classes are not exported; each is taken from a value the library builds itself, so the
// values we create pass its own `instanceof` checks.

/** What we use of the library's runtime values. */
export interface Value {
  type: string;
  value: unknown;
  readonly builtins: Map<string, Value>;
  toString(): string;
}

type ValueClass = new (value?: unknown) => Value;

const probe = new Environment();
const classOf = (js: unknown): ValueClass => (probe.set(`v${probe.variables.size}`, js) as unknown as Value).constructor as ValueClass;

export const StringValue = classOf('');
export const IntegerValue = classOf(1);
export const FloatValue = classOf(1.5);
const BooleanValue = classOf(true);
const UndefinedValue = classOf(undefined);
export const ObjectValue = classOf({});
export const ArrayValue = classOf([]);
const NullValue = classOf(null);
export const FunctionValue = classOf(() => null);
export const TupleValue = (() => {
  const scope = new Environment();
  new Interpreter(scope).run(new Template('{% set t = (1, 2) %}').parsed);
  return scope.lookupVariable('t').constructor as ValueClass;
})();

/**
 * A variable's JavaScript value as the runtime's, as the library converts it, except that an
 * object parsed from JSON text is read as the text wrote it: a whole number written `2.0` stays a
 * float, as Python's json keeps it (see json-source.ts).
 */
export function runtimeValue(js: unknown): Value {
  if (js === null || typeof js !== 'object') return scalar(js);
  if (js instanceof WrittenFloat) return new FloatValue(js.value);
  if (Array.isArray(js)) return new ArrayValue(js.map(runtimeValue));
  const source = floatsKept(js) as Record<string, unknown>;
  return new ObjectValue(new Map(Object.entries(source).map(([key, value]) => [key, runtimeValue(value)])));
}

function scalar(js: unknown): Value {
  switch (typeof js) {
    case 'number':
      return Number.isInteger(js) ? new IntegerValue(js) : new FloatValue(js);
    case 'string':
      return new StringValue(js);
    case 'boolean':
      return bool(js);
    case 'undefined':
      return UNDEFINED;
    case 'function': {
      const call = js as (...args: unknown[]) => unknown;
      return new FunctionValue((args: Value[]) => runtimeValue(call(...args.map((arg) => arg.value)) ?? null));
    }
    default:
      if (js === null) return new NullValue();
      throw new Error(`cannot pass a ${typeof js} to a template`);
  }
}

// Scalars are never mutated (only a namespace's map is), so one instance can stand for every use.
const TRUE = new BooleanValue(true);
const FALSE = new BooleanValue(false);
export const UNDEFINED = new UndefinedValue(undefined);
export const bool = (flag: boolean): Value => (flag ? TRUE : FALSE);

const SMALL_INTS: Value[] = [];
/** An IntegerValue, shared for the small counts loops hand out (loop.index and its kin). */
export function int(n: number): Value {
  if (n >= 0 && n < 4096 && Number.isInteger(n)) return (SMALL_INTS[n] ??= new IntegerValue(n));
  return new IntegerValue(n);
}

export const isNumber = (value: Value): boolean => value.type === 'IntegerValue' || value.type === 'FloatValue' || value.type === 'BooleanValue';
export const isSequence = (value: Value): boolean => value.type === 'ArrayValue' || value.type === 'TupleValue';

/** Python's truth value (the library's `__bool__` builds a value for every test). */
export function truthy(value: Value): boolean {
  switch (value.type) {
    case 'BooleanValue': return value.value as boolean;
    case 'IntegerValue':
    case 'FloatValue': return value.value !== 0;
    case 'StringValue': return (value.value as string).length > 0;
    case 'ArrayValue':
    case 'TupleValue': return (value.value as unknown[]).length > 0;
    case 'ObjectValue':
    case 'KeywordArgumentsValue': return (value.value as Map<string, unknown>).size > 0;
    case 'NullValue':
    case 'UndefinedValue': return false;
    default: return true;
  }
}

/** Python's `type(x).__name__` for a runtime value, for TypeError messages as Python words them. */
export function pythonType(value: Value): string {
  switch (value.type) {
    case 'StringValue': return 'str';
    case 'IntegerValue': return 'int';
    case 'FloatValue': return 'float';
    case 'BooleanValue': return 'bool';
    case 'NullValue': return 'NoneType';
    case 'ArrayValue': return 'list';
    case 'TupleValue': return 'tuple';
    case 'ObjectValue': return 'dict';
    case 'KeywordArgumentsValue': return 'dict';
    case 'NamespaceValue': return 'Namespace';
    case 'FunctionValue': return 'function';
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

/** Python's `repr(x)`: how a value prints inside a list or dict, and for `%r` and `!r`. */
export function pythonRepr(value: Value): string {
  switch (value.type) {
    case 'StringValue': return pythonStringRepr(value.value as string);
    case 'IntegerValue': return pythonInt(value.value as number);
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
    case 'KeywordArgumentsValue':
      return `{${[...(value.value as Map<string, Value>)].map(([key, item]) => `${pythonStringRepr(key)}: ${pythonRepr(item)}`).join(', ')}}`;
    default: return value.toString();
  }
}

/** An int's digits; a JS number past 2^53 prints all of its (exact) digits, as Python's int would. */
function pythonInt(n: number): string {
  return Number.isSafeInteger(n) ? String(n) : BigInt(n).toString();
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

/** Python's `a == b`: numbers by value (True == 1 == 1.0), lists and dicts item by item, never a string equal to a number. */
export function pythonEquals(a: Value, b: Value): boolean {
  if (a === b) return true;
  if (isNumber(a) && isNumber(b)) return Number(a.value) === Number(b.value);
  if (a.type !== b.type) return false;
  switch (a.type) {
    case 'StringValue': return a.value === b.value;
    case 'NullValue':
    case 'UndefinedValue': return true;
    case 'ArrayValue':
    case 'TupleValue': {
      const [x, y] = [a.value as Value[], b.value as Value[]];
      return x.length === y.length && x.every((item, i) => pythonEquals(item, y[i] as Value));
    }
    case 'ObjectValue': {
      const [x, y] = [a.value as Map<string, Value>, b.value as Map<string, Value>];
      if (x.size !== y.size) return false;
      for (const [key, item] of x) {
        const other = y.get(key);
        if (other === undefined || !pythonEquals(item, other)) return false;
      }
      return true;
    }
    default: return a.value === b.value;
  }
}

/** Python's `a in b`. */
export function pythonContains(container: Value, item: Value): boolean {
  switch (container.type) {
    case 'ArrayValue':
    case 'TupleValue':
      return (container.value as Value[]).some((member) => pythonEquals(item, member));
    case 'StringValue':
      if (item.type !== 'StringValue') throw new TypeError(`'in <string>' requires string as left operand, not ${pythonType(item)}`);
      return (container.value as string).includes(item.value as string);
    case 'ObjectValue':
    case 'KeywordArgumentsValue':
    case 'NamespaceValue':
      return item.type === 'StringValue' && (container.value as Map<string, Value>).has(item.value as string);
    // Jinja2's Undefined iterates as empty.
    case 'UndefinedValue': return false;
    default: throw new TypeError(`argument of type '${pythonType(container)}' is not iterable`);
  }
}

/** Python's ZeroDivisionError, with its messages. */
class ZeroDivisionError extends Error {}

function divisionByZero(operator: string, float: boolean): ZeroDivisionError {
  if (operator === '/') return new ZeroDivisionError(float ? 'float division by zero' : 'division by zero');
  if (operator === '//') return new ZeroDivisionError(float ? 'float floor division by zero' : 'integer division or modulo by zero');
  return new ZeroDivisionError(float ? 'float modulo' : 'integer modulo by zero');
}

/**
 * Python's arithmetic on two numbers (a bool counts as 0 or 1): ints stay ints except under `/`
 * and a negative power, `%` and `//` round toward minus infinity (`-7 % 3` is 2, not -1), and
 * dividing by zero is an error rather than infinity.
 */
export function pythonArithmetic(operator: string, left: Value, right: Value): Value {
  const [a, b] = [Number(left.value), Number(right.value)];
  const float = left.type === 'FloatValue' || right.type === 'FloatValue';
  const number = (x: number, isFloat = float): Value => (isFloat ? new FloatValue(x) : new IntegerValue(x));
  if (b === 0 && (operator === '/' || operator === '//' || operator === '%')) throw divisionByZero(operator, float);
  switch (operator) {
    case '+': return number(a + b);
    case '-': return number(a - b);
    case '*': return number(a * b);
    case '/': return new FloatValue(a / b);
    case '//': return number(Math.floor(a / b));
    case '%': {
      let remainder = a % b;
      if (remainder !== 0 && remainder < 0 !== b < 0) remainder += b;
      // A zero takes the divisor's sign too (6 % -3.0 is -0.0).
      return number(remainder === 0 ? (float && b < 0 ? -0 : 0) : remainder);
    }
    case '**':
      if (a === 0 && b < 0) throw new ZeroDivisionError('0.0 cannot be raised to a negative power');
      return number(a ** b, float || b < 0);
    default: throw new TypeError(`unsupported operand type(s) for ${operator}: '${pythonType(left)}' and '${pythonType(right)}'`);
  }
}

/** Python's `a + b` for what is not two numbers: strings and same-kind sequences join, anything else is a TypeError. */
export function pythonConcat(left: Value, right: Value): Value {
  if (left.type === 'StringValue' && right.type === 'StringValue') return new StringValue((left.value as string) + (right.value as string));
  if (isSequence(left) && left.type === right.type) {
    const Class = left.constructor as new (items: Value[]) => Value;
    return new Class([...(left.value as Value[]), ...(right.value as Value[])]);
  }
  if (left.type === 'StringValue' || isSequence(left)) throw new TypeError(`can only concatenate ${pythonType(left)} (not "${pythonType(right)}") to ${pythonType(left)}`);
  throw new TypeError(`unsupported operand type(s) for +: '${pythonType(left)}' and '${pythonType(right)}'`);
}

/** Python's ordering: numbers by value, strings by code point, lists item by item; anything else is a TypeError. */
export function pythonCompare(left: Value, right: Value, operator: string): number {
  if (isNumber(left) && isNumber(right)) {
    const [a, b] = [Number(left.value), Number(right.value)];
    // NaN compares false every way, as in Python.
    return a < b ? -1 : a > b ? 1 : a === b ? 0 : Number.NaN;
  }
  if (left.type === 'StringValue' && right.type === 'StringValue') return compareCodePoints(left.value as string, right.value as string);
  if (isSequence(left) && left.type === right.type) {
    const [a, b] = [left.value as Value[], right.value as Value[]];
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      if (!pythonEquals(a[i] as Value, b[i] as Value)) return pythonCompare(a[i] as Value, b[i] as Value, operator);
    }
    return a.length - b.length;
  }
  throw new TypeError(`'${operator}' not supported between instances of '${pythonType(left)}' and '${pythonType(right)}'`);
}

/** What a `for` walks: a list's items, a dict's keys, a string's characters; undefined walks nothing, as in Jinja2. */
export function iterate(value: Value): Value[] {
  switch (value.type) {
    case 'ArrayValue':
    case 'TupleValue': return value.value as Value[];
    case 'ObjectValue': return [...(value.value as Map<string, Value>).keys()].map((key) => new StringValue(key));
    case 'StringValue': return Array.from(value.value as string, (char) => new StringValue(char));
    case 'UndefinedValue': return [];
    default: throw new TypeError(`'${pythonType(value)}' object is not iterable`);
  }
}

export interface JsonOptions {
  indent?: string | undefined;
  separators?: readonly [string, string] | undefined;
  sortKeys?: boolean;
  ensureAscii?: boolean;
}

/**
 * `json.dumps(value, ...)` as transformers' `tojson` filter calls it: floats in Python's repr
 * (`1.0`, `1e+16`, `Infinity`), `indent=0` still breaks lines, keys sorted by code point.
 */
export function pythonJsonDumps(value: Value, options: JsonOptions = {}, depth = 0): string {
  const { indent, sortKeys = false, ensureAscii = false } = options;
  const [itemSeparator, keySeparator] = options.separators ?? (indent === undefined ? [', ', ': '] : [',', ': ']);
  const string = (text: string): string => (ensureAscii ? JSON.stringify(text).replace(/[\x7f-\uffff]/g, (c) => `\\u${hex(c.charCodeAt(0), 4)}`) : JSON.stringify(text));
  const wrap = (open: string, items: string[], close: string): string => {
    if (items.length === 0) return open + close;
    if (indent === undefined) return open + items.join(itemSeparator) + close;
    const inner = `\n${indent.repeat(depth + 1)}`;
    return `${open}${inner}${items.join(itemSeparator + inner)}\n${indent.repeat(depth)}${close}`;
  };
  switch (value.type) {
    case 'NullValue':
    case 'UndefinedValue': return 'null';
    case 'BooleanValue': return value.value ? 'true' : 'false';
    case 'IntegerValue': return pythonInt(value.value as number);
    case 'FloatValue': {
      const x = value.value as number;
      return Number.isNaN(x) ? 'NaN' : Number.isFinite(x) ? pythonFloat(x) : x > 0 ? 'Infinity' : '-Infinity';
    }
    case 'StringValue': return string(value.value as string);
    case 'ArrayValue':
    case 'TupleValue':
      return wrap('[', (value.value as Value[]).map((item) => pythonJsonDumps(item, options, depth + 1)), ']');
    case 'ObjectValue':
    case 'KeywordArgumentsValue':
    case 'NamespaceValue': {
      let entries = [...(value.value as Map<string, Value>)];
      if (sortKeys) entries = entries.sort(([a], [b]) => compareCodePoints(a, b));
      return wrap('{', entries.map(([key, item]) => `${string(key)}${keySeparator}${pythonJsonDumps(item, options, depth + 1)}`), '}');
    }
    default: throw new TypeError(`Object of type ${pythonType(value)} is not JSON serializable`);
  }
}

/** Python orders strings by code point; JavaScript's `<` by UTF-16 unit, which differs past U+FFFF. */
function compareCodePoints(a: string, b: string): number {
  const [x, y] = [Array.from(a), Array.from(b)];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const diff = (x[i] as string).codePointAt(0)! - (y[i] as string).codePointAt(0)!;
    if (diff !== 0) return diff;
  }
  return x.length - y.length;
}
