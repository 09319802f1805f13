// Rebuilding the values probes return (encoded by sandbox/worker.mjs) in the grader's process.
// The input comes from the sandbox, so it is read strictly: only the documented shapes, bounded
// depth and size, and objects built with defineProperty (a "__proto__" key stays a plain key).

export class WireError extends Error {
  constructor(message: string) {
    super(`probe value: ${message}`);
    this.name = 'WireError';
  }
}

/** A value that has no faithful copy outside the sandbox (a function, a cycle): equal to nothing expected. */
export class Opaque {
  constructor(
    readonly kind: 'function' | 'cycle',
    readonly description: string,
  ) {}
}

const MAX_DEPTH = 100;
const MAX_NODES = 200_000;

const classes = new Map<string, object>();

/** One prototype per class name, so instances compare equal to each other but never to literals. */
function prototypeFor(name: string): object {
  let proto = classes.get(name);
  if (!proto) {
    const named = { [name]: class {} }[name] as { prototype: object };
    proto = named.prototype;
    classes.set(name, proto);
  }
  return proto;
}

type Tagged = Record<string, unknown> & { t: unknown };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function text(value: unknown, field: string): string {
  if (typeof value !== 'string') throw new WireError(`${field} must be a string`);
  return value;
}

function list(value: unknown, field: string): unknown[] {
  if (!Array.isArray(value)) throw new WireError(`${field} must be a list`);
  return value;
}

function define(target: object, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

const SPECIAL_NUMBERS: Record<string, number> = { NaN: Number.NaN, Infinity: Number.POSITIVE_INFINITY, '-Infinity': Number.NEGATIVE_INFINITY, '-0': -0 };

/** The value a probe returned, rebuilt from its wire form; throws WireError on anything malformed. */
export function decodeValue(wire: unknown): unknown {
  let nodes = 0;
  const decode = (value: unknown, depth: number): unknown => {
    nodes += 1;
    if (nodes > MAX_NODES) throw new WireError(`more than ${MAX_NODES} parts`);
    if (depth > MAX_DEPTH) throw new WireError(`nested deeper than ${MAX_DEPTH} levels`);
    if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
    if (typeof value === 'number') return value;
    if (!isRecord(value) || typeof value.t !== 'string') throw new WireError(`unexpected ${Array.isArray(value) ? 'list' : typeof value}`);
    return decodeTagged(value as Tagged, depth + 1);
  };
  const entriesInto = (target: object, raw: unknown, depth: number): void => {
    for (const entry of list(raw, 'entries')) {
      const [key, item] = list(entry, 'entry') as [unknown, unknown];
      define(target, text(key, 'entry key'), decode(item, depth));
    }
  };
  const decodeTagged = (value: Tagged, depth: number): unknown => {
    switch (value.t) {
      case 'undefined':
        return undefined;
      case 'number': {
        const special = SPECIAL_NUMBERS[text(value.v, 'number')];
        if (special === undefined) throw new WireError(`unknown number ${JSON.stringify(value.v)}`);
        return special;
      }
      case 'bigint': {
        const digits = text(value.v, 'bigint');
        if (!/^-?\d{1,4000}$/.test(digits)) throw new WireError('bigint must be digits');
        return BigInt(digits);
      }
      case 'symbol':
        return Symbol(text(value.v, 'symbol'));
      case 'function':
        return new Opaque('function', `[Function ${text(value.name, 'function name') || '(anonymous)'}]`);
      case 'cycle':
        return new Opaque('cycle', '[Circular]');
      case 'array': {
        const items = list(value.items, 'items');
        const out: unknown[] = new Array(items.length);
        items.forEach((item, i) => {
          if (!(isRecord(item) && item.t === 'hole')) out[i] = decode(item, depth);
        });
        return out;
      }
      case 'date': {
        if (value.ms !== null && typeof value.ms !== 'number') throw new WireError('date.ms must be a number or null');
        return new Date(value.ms === null ? Number.NaN : value.ms);
      }
      case 'regexp':
        try {
          return new RegExp(text(value.source, 'regexp source'), text(value.flags, 'regexp flags'));
        } catch (error) {
          throw new WireError(`invalid regexp: ${(error as Error).message}`);
        }
      case 'map':
        return new Map(list(value.entries, 'entries').map((entry) => {
          const [key, item] = list(entry, 'map entry');
          return [decode(key, depth), decode(item, depth)] as const;
        }));
      case 'set':
        return new Set(list(value.items, 'items').map((item) => decode(item, depth)));
      case 'error': {
        const error = new Error(text(value.message, 'error message'));
        Object.defineProperty(error, 'name', { value: text(value.name, 'error name'), enumerable: false, writable: true, configurable: true });
        Object.defineProperty(error, 'stack', { value: `${error.name}: ${error.message}`, enumerable: false, writable: true, configurable: true });
        entriesInto(error, value.entries, depth);
        return error;
      }
      case 'object': {
        const proto = value.proto === null ? null : text(value.proto, 'proto');
        const target: object = proto === null ? Object.create(null) : proto === 'Object' ? {} : Object.create(prototypeFor(proto));
        entriesInto(target, value.entries, depth);
        return target;
      }
      default:
        throw new WireError(`unknown tag ${JSON.stringify(value.t)}`);
    }
  };
  return decode(wire, 0);
}
