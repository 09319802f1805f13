import { tooLong } from './jinja-limits.ts';
import { fixed, general, integerDigits, negative, nonFinite, scientific } from './jinja-numbers.ts';
import { StringValue, isNumber, pythonFloat, pythonRepr, pythonStr, pythonType, type Value } from './jinja-python.ts';

// Python's two string formatting mini-languages, as a chat template reaches them through Jinja2:
// `'%5.2f' % x` (and the `format` filter) and `'{:>5}'.format(x)`, with CPython's results and
// error messages. Numbers are written by jinja-numbers.ts.

/** A format string Python would reject, or a value it cannot format: a template bug, reported as Python words it. */
export class FormatError extends Error {}

/** Python's `int(x)` of a number value, with Python's errors for inf and nan. */
function toInteger(x: number): number {
  if (Number.isNaN(x)) throw new FormatError('cannot convert float NaN to integer');
  if (!Number.isFinite(x)) throw new FormatError('cannot convert float infinity to integer');
  return Math.trunc(x);
}

const PRINTF_CONVERSIONS = 'diouxXeEfFgGcrsa%';
/** After `%` and any `(key)`: flags, width, precision and C's ignored length modifier. */
const PRINTF_SPEC = /([-+ #0]*)(\*|\d+)?(?:\.(\*|\d*))?[hlL]*/y;

/**
 * Python's `format % args`: a tuple supplies the arguments in order, a dict the `%(key)s` ones,
 * anything else is the single argument.
 */
export function printf(format: string, args: Value, maxChars: number): string {
  const positional = args.type === 'TupleValue' ? (args.value as Value[]) : [args];
  const mapping = args.type === 'ObjectValue' || args.type === 'ArrayValue' ? args : undefined;
  let next = 0;
  const take = (): Value => {
    const value = positional[next++];
    if (value === undefined) throw new FormatError('not enough arguments for format string');
    return value;
  };
  let out = '';
  let i = 0;
  while (i < format.length) {
    const percent = format.indexOf('%', i);
    if (percent < 0) {
      out += format.slice(i);
      break;
    }
    out += format.slice(i, percent);
    i = percent + 1;
    let value: Value | undefined;
    if (format[i] === '(') {
      // A mapping key may itself hold balanced parentheses.
      let depth = 1;
      let end = i + 1;
      for (; end < format.length && depth > 0; end++) depth += format[end] === '(' ? 1 : format[end] === ')' ? -1 : 0;
      if (depth > 0) throw new FormatError('incomplete format key');
      if (mapping?.type !== 'ObjectValue') throw new FormatError('format requires a mapping');
      const key = format.slice(i + 1, end - 1);
      value = (mapping.value as Map<string, Value>).get(key);
      if (value === undefined) throw new FormatError(`KeyError: '${key}'`);
      // As in CPython, a keyed conversion uses up the positional argument.
      next = positional.length;
      i = end;
    }
    // Matched in place (sticky), so a long format costs its length once.
    PRINTF_SPEC.lastIndex = i;
    const [spec = '', flags = '', widthText, precisionText] = PRINTF_SPEC.exec(format) ?? [];
    i += spec.length;
    let left = flags.includes('-');
    let width = widthText === '*' ? starArgument(take(), 'width') : Number(widthText ?? 0);
    if (width < 0) [left, width] = [true, -width];
    const precision = precisionText === undefined ? undefined : precisionText === '*' ? Math.max(0, starArgument(take(), 'precision')) : Number(precisionText || 0);
    const conversion = format[i];
    if (conversion === undefined) throw new FormatError('incomplete format');
    if (!PRINTF_CONVERSIONS.includes(conversion)) {
      throw new FormatError(`unsupported format character '${conversion}' (0x${conversion.charCodeAt(0).toString(16)}) at index ${i}`);
    }
    i++;
    if (width > maxChars || (precision ?? 0) > maxChars) throw tooLong(Math.max(width, precision ?? 0), maxChars);
    if (conversion === '%') {
      // Only a bare '%%' is a literal percent; with a width or flags CPython fetches an argument, then rejects it.
      if (i - percent > 2) {
        if (value === undefined) take();
        throw new FormatError(`unsupported format character '%' (0x25) at index ${i - 1}`);
      }
      out += '%';
      continue;
    }
    value ??= take();
    out += printfOne(value, conversion, { flags, width, left, precision });
  }
  // Python does not count a dict's (or list's) use: '%(a)s' % d and 'text' % d both pass.
  if (next < positional.length && mapping === undefined) {
    throw new FormatError('not all arguments converted during string formatting');
  }
  return out;
}

function starArgument(value: Value, what: string): number {
  if (value.type !== 'IntegerValue' && value.type !== 'BooleanValue') throw new FormatError(`* wants int (for the ${what})`);
  return Number(value.value);
}

interface PrintfSpec {
  flags: string;
  width: number;
  left: boolean;
  precision: number | undefined;
}

function printfOne(value: Value, conversion: string, spec: PrintfSpec): string {
  const { flags, width, left, precision } = spec;
  // Widths count characters (code points), as Python's do; zeros go between the sign (and 0x) and the digits.
  const pad = (body: string, sign = '', zeroable = false): string => {
    const room = Math.max(0, width - [...sign].length - [...body].length);
    if (left) return sign + body + ' '.repeat(room);
    if (zeroable && flags.includes('0')) return sign + '0'.repeat(room) + body;
    return ' '.repeat(room) + sign + body;
  };
  const signOf = (isNegative: boolean): string => (isNegative ? '-' : flags.includes('+') ? '+' : flags.includes(' ') ? ' ' : '');
  switch (conversion) {
    case 's':
    case 'r':
    case 'a': {
      let text = conversion === 's' ? pythonStr(value) : conversion === 'r' ? pythonRepr(value) : asciiRepr(value);
      if (precision !== undefined) text = [...text].slice(0, precision).join('');
      return pad(text);
    }
    case 'c': {
      if (value.type === 'StringValue' && [...(value.value as string)].length === 1) return pad(value.value as string);
      if (value.type !== 'IntegerValue' && value.type !== 'BooleanValue') throw new FormatError(`%c requires an int or a unicode character, not ${pythonType(value)}`);
      return pad(character(Number(value.value), '%c arg'));
    }
    case 'd':
    case 'i':
    case 'u': {
      if (!isNumber(value)) throw new FormatError(`%${conversion} format: a real number is required, not ${pythonType(value)}`);
      const n = toInteger(Number(value.value));
      let digits = integerDigits(n, 10);
      if (precision !== undefined) digits = digits.padStart(precision, '0');
      return pad(digits, signOf(n < 0), true);
    }
    case 'o':
    case 'x':
    case 'X': {
      if (value.type !== 'IntegerValue' && value.type !== 'BooleanValue') throw new FormatError(`%${conversion} format: an integer is required, not ${pythonType(value)}`);
      const n = Number(value.value);
      let digits = integerDigits(n, conversion === 'o' ? 8 : 16);
      if (precision !== undefined) digits = digits.padStart(precision, '0');
      if (conversion === 'X') digits = digits.toUpperCase();
      const prefix = flags.includes('#') ? (conversion === 'o' ? '0o' : conversion === 'x' ? '0x' : '0X') : '';
      return pad(digits, signOf(n < 0) + prefix, true);
    }
    default: {
      if (!isNumber(value)) throw new FormatError(`must be real number, not ${pythonType(value)}`);
      const x = Number(value.value);
      const upper = conversion === 'E' || conversion === 'F' || conversion === 'G';
      const special = nonFinite(x);
      if (special !== undefined) return pad(upper ? special.toUpperCase() : special, signOf(x < 0));
      const alternate = flags.includes('#');
      const places = precision ?? 6;
      const lower = conversion.toLowerCase();
      const body = lower === 'f' ? fixed(x, places, alternate) : lower === 'e' ? scientific(x, places, alternate) : general(x, places, alternate);
      return pad(upper ? body.toUpperCase() : body, signOf(negative(x)), true);
    }
  }
}

/** The character with code point `n`, as Python's chr() (and %c, {:c}) gives it. */
function character(n: number, what: string): string {
  if (!(n >= 0 && n < 0x110000)) throw new FormatError(`${what} not in range(0x110000)`);
  return String.fromCodePoint(n);
}

/** Python's `ascii(x)`: the repr with every non-ASCII character escaped. */
function asciiRepr(value: Value): string {
  return [...pythonRepr(value)]
    .map((char) => {
      const code = char.codePointAt(0) as number;
      if (code < 0x80) return char;
      return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : code < 0x10000 ? `\\u${code.toString(16).padStart(4, '0')}` : `\\U${code.toString(16).padStart(8, '0')}`;
    })
    .join('');
}

/** Python's `format.format(*positional, **keywords)`. */
export function strFormat(format: string, positional: readonly Value[], keywords: ReadonlyMap<string, Value>, maxChars: number): string {
  let automatic: boolean | undefined;
  let nextIndex = 0;
  const lookup = (field: string): Value => {
    const name = /^[^.[]*/.exec(field)?.[0] ?? '';
    let value: Value | undefined;
    if (name === '' || /^\d+$/.test(name)) {
      const manual = name !== '';
      if (automatic === undefined) automatic = !manual;
      if (automatic === manual) throw new FormatError(manual ? 'cannot switch from automatic field numbering to manual field specification' : 'cannot switch from manual field specification to automatic field numbering');
      const index = manual ? Number(name) : nextIndex++;
      value = positional[index];
      if (value === undefined) throw new FormatError('tuple index out of range');
    } else {
      value = keywords.get(name);
      if (value === undefined) throw new FormatError(`KeyError: '${name}'`);
    }
    return fieldPath(value, field.slice(name.length), field);
  };
  const render = (text: string, depth: number): string => {
    const braces = /[{}]/g;
    let out = '';
    let i = 0;
    while (i < text.length) {
      braces.lastIndex = i;
      const at = braces.exec(text)?.index ?? text.length;
      out += text.slice(i, at);
      if (at === text.length) break;
      if (text[at] === '}') {
        if (text[at + 1] !== '}') throw new FormatError("Single '}' encountered in format string");
        out += '}';
        i = at + 2;
      } else if (text[at + 1] === '{') {
        out += '{';
        i = at + 2;
      } else {
        // The field runs to its matching brace; its format spec may hold nested fields.
        let nesting = 1;
        let end = at + 1;
        for (; end < text.length && nesting > 0; end++) nesting += text[end] === '{' ? 1 : text[end] === '}' ? -1 : 0;
        if (nesting > 0) throw new FormatError(at === text.length - 1 ? "Single '{' encountered in format string" : "expected '}' before end of string");
        if (depth > 1) throw new FormatError('Max string recursion exceeded');
        const { field, conversion, spec } = splitField(text.slice(at + 1, end - 1));
        const value = lookup(field);
        out += formatValue(conversion === undefined ? value : conversionOf(value, conversion), render(spec, depth + 1), maxChars);
        i = end;
      }
    }
    return out;
  };
  return render(format, 0);
}

function splitField(body: string): { field: string; conversion: string | undefined; spec: string } {
  // The field name ends at the first '!' or ':' outside its [...] index.
  let i = 0;
  while (i < body.length && body[i] !== '!' && body[i] !== ':') i = body[i] === '[' ? Math.max(body.indexOf(']', i), i) + 1 : i + 1;
  const field = body.slice(0, i);
  let conversion: string | undefined;
  if (body[i] === '!') {
    conversion = body[i + 1];
    if (conversion === undefined || !'rsa'.includes(conversion)) throw new FormatError(`Unknown conversion specifier ${conversion ?? ''}`);
    i += 2;
    if (i < body.length && body[i] !== ':') throw new FormatError("expected ':' after conversion specifier");
  }
  return { field, conversion, spec: body.slice(i + 1) };
}

/** `.name` and `[key]` after a field's name: a dict's key or a list's index, as Jinja2's sandbox looks them up. */
function fieldPath(value: Value, path: string, field: string): Value {
  let current = value;
  for (const [, attribute, index] of path.matchAll(/\.([^.[]+)|\[([^\]]*)\]/g)) {
    const key = (attribute ?? index) as string;
    if (current.type === 'ArrayValue' || current.type === 'TupleValue') {
      const item = /^\d+$/.test(key) ? (current.value as Value[])[Number(key)] : undefined;
      if (item === undefined) throw new FormatError(`cannot look up ${JSON.stringify(key)} in field {${field}}: list index out of range`);
      current = item;
    } else if (current.type === 'ObjectValue') {
      const item = (current.value as Map<string, Value>).get(key);
      if (item === undefined) throw new FormatError(`KeyError: '${key}' (in field {${field}})`);
      current = item;
    } else {
      throw new FormatError(`cannot look up ${JSON.stringify(key)} on a ${pythonType(current)} (in field {${field}})`);
    }
  }
  return current;
}

function conversionOf(value: Value, conversion: string): Value {
  return new StringValue(conversion === 's' ? pythonStr(value) : conversion === 'r' ? pythonRepr(value) : asciiRepr(value));
}

const SPEC = /^(?:([\s\S])(?=[<>=^]))?([<>=^])?([-+ ])?(z)?(#)?(0)?(\d+)?([,_])?(?:\.(\d+))?([bcdeEfFgGnosxX%])?$/;

/** Python's `format(value, spec)` for the values a template holds. */
export function formatValue(value: Value, spec: string, maxChars: number): string {
  if (spec === '') return pythonStr(value);
  const match = SPEC.exec(spec);
  if (!match) throw new FormatError(`Invalid format specifier '${spec}' for object of type '${pythonType(value)}'`);
  const [, fill, alignment, sign, z, alternate, zero, widthText, grouping, precisionText, type] = match;
  const width = widthText === undefined ? 0 : Number(widthText);
  const precision = precisionText === undefined ? undefined : Number(precisionText);
  if (width > maxChars || (precision ?? 0) > maxChars) throw tooLong(Math.max(width, precision ?? 0), maxChars);
  // A leading 0 is a fill of zeros: after the sign for numbers, after the text for strings.
  const layout = (defaultAlign: string): Alignment => ({ fill: fill ?? (zero === undefined ? ' ' : '0'), align: alignment ?? (zero === undefined ? defaultAlign : defaultAlign === '<' ? '<' : '='), width });
  switch (value.type) {
    case 'StringValue':
    case 'UndefinedValue': {
      if (type !== undefined && type !== 's') throw new FormatError(`Unknown format code '${type}' for object of type 'str'`);
      if (sign !== undefined) throw new FormatError('Sign not allowed in string format specifier');
      if (z !== undefined) throw new FormatError('Negative zero coercion (z) not allowed in format specifier');
      if (alternate !== undefined) throw new FormatError('Alternate form (#) not allowed in string format specifier');
      if (alignment === '=') throw new FormatError("'=' alignment not allowed in string format specifier");
      const text = pythonStr(value);
      return align(precision === undefined ? text : [...text].slice(0, precision).join(''), '', layout('<'));
    }
    case 'IntegerValue':
    case 'BooleanValue': {
      const numberSpec: NumberSpec = { type: type ?? 'd', sign, z: z !== undefined, alternate: alternate !== undefined, grouping, precision };
      if (type === 's') throw new FormatError(`Unknown format code 's' for object of type '${pythonType(value)}'`);
      if (type === undefined || 'bcdoxXn'.includes(type)) return formatInteger(Number(value.value), numberSpec, layout('>'));
      return formatFloat(Number(value.value), numberSpec, layout('>'));
    }
    case 'FloatValue':
      if (type !== undefined && 'bcdosxX'.includes(type)) throw new FormatError(`Unknown format code '${type}' for object of type 'float'`);
      return formatFloat(value.value as number, { type, sign, z: z !== undefined, alternate: alternate !== undefined, grouping, precision }, layout('>'));
    default:
      throw new FormatError(`unsupported format string passed to ${pythonType(value)}.__format__`);
  }
}

interface NumberSpec {
  type: string | undefined;
  sign: string | undefined;
  /** `z`: a zero that rounds from a negative number prints without its minus. */
  z: boolean;
  alternate: boolean;
  grouping: string | undefined;
  precision: number | undefined;
}

const signText = (isNegative: boolean, sign: string | undefined): string => (isNegative ? '-' : sign === '+' ? '+' : sign === ' ' ? ' ' : '');

function formatInteger(n: number, spec: NumberSpec, layout: Alignment): string {
  if (spec.precision !== undefined) throw new FormatError('Precision not allowed in integer format specifier');
  if (spec.z) throw new FormatError('Negative zero coercion (z) not allowed in integer format specifier');
  if (spec.type === 'c') return align(character(n, '%c arg'), '', layout);
  const radix = spec.type === 'b' ? 2 : spec.type === 'o' ? 8 : spec.type === 'x' || spec.type === 'X' ? 16 : 10;
  const prefix = spec.alternate && radix !== 10 ? `0${spec.type === 'X' ? 'X' : spec.type === 'b' ? 'b' : spec.type === 'o' ? 'o' : 'x'}` : '';
  const head = signText(n < 0, spec.sign) + prefix;
  let digits = groupDigits(integerDigits(n, radix), spec.grouping, radix === 10 ? 3 : 4, zeroRoom(layout, head.length));
  if (spec.type === 'X') digits = digits.toUpperCase();
  return align(digits, head, layout);
}

/** How many characters zero padding leaves for the digits (and what follows them), or 0 without it. */
function zeroRoom(layout: Alignment, used: number): number {
  return layout.fill === '0' && layout.align === '=' ? layout.width - used : 0;
}

function formatFloat(x: number, spec: NumberSpec, layout: Alignment): string {
  const { type, precision, alternate } = spec;
  const upper = type === 'E' || type === 'F' || type === 'G';
  const special = nonFinite(x);
  let body: string;
  if (special !== undefined) body = special;
  // No type: repr without a precision, a repr-like `g` with one.
  else if (type === undefined) body = precision === undefined ? pythonFloat(Math.abs(x)) : general(x, precision, alternate, true);
  else if (type === 'f' || type === 'F') body = fixed(x, precision ?? 6, alternate);
  else if (type === 'e' || type === 'E') body = scientific(x, precision ?? 6, alternate);
  else if (type === '%') body = `${fixed(x * 100, precision ?? 6, alternate)}%`;
  else body = general(x, precision ?? 6, alternate);
  const head = signText(negative(x) && !(spec.z && Number.parseFloat(body) === 0), spec.sign);
  if (spec.grouping !== undefined && special === undefined) {
    body = body.replace(/^\d+/, (digits) => groupDigits(digits, spec.grouping, 3, zeroRoom(layout, head.length) - (body.length - digits.length)));
  }
  return align(upper ? body.toUpperCase() : body, head, layout);
}

interface Alignment {
  fill: string;
  align: string;
  width: number;
}

function align(body: string, sign: string, { fill, align: how, width }: Alignment): string {
  const length = [...sign].length + [...body].length;
  const room = Math.max(0, width - length);
  if (room === 0) return sign + body;
  const padding = (count: number): string => fill.repeat(count);
  switch (how) {
    case '<': return sign + body + padding(room);
    case '^': return padding(Math.floor(room / 2)) + sign + body + padding(room - Math.floor(room / 2));
    case '=': return sign + padding(room) + body;
    default: return padding(room) + sign + body;
  }
}

/** Groups digits by `size`; zero padding to `room` characters adds zeros that are grouped too (`{:010,}` is 00,001,234). */
function groupDigits(digits: string, separator: string | undefined, size: number, room: number): string {
  if (separator === undefined) return digits;
  let count = Math.max(digits.length, Math.floor((room * size) / (size + 1)));
  while (count + Math.floor((count - 1) / size) < room) count++;
  return group(digits.padStart(count, '0'), separator, size);
}

function group(digits: string, separator: string | undefined, size: number): string {
  if (separator === undefined) return digits;
  const out: string[] = [];
  for (let end = digits.length; end > 0; end -= size) out.unshift(digits.slice(Math.max(0, end - size), end));
  return out.join(separator);
}

