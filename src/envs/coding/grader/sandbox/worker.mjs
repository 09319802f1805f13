// Runs INSIDE the sandbox, in a worker thread of supervisor.mjs: imports the code under test and
// runs probe functions one at a time, answering each with a plain, serialisable outcome.
// The code under test shares this thread and can change anything here, this file included; that
// is fine, because nothing here decides a result. The expected values never enter the sandbox:
// the grader outside compares what comes back. Node built-ins only (`node:` specifiers cannot be
// shadowed by files in the work dir).
import { parentPort, workerData } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';

const MAX_DEPTH = 64;
const MAX_NODES = 50_000;
const MAX_TEXT = 2_000;

const clip = (text) => (text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT)}…` : text);

/** The text of `read()`, or a placeholder when reading or printing it throws (a hostile getter). */
function safeString(read) {
  try {
    return clip(String(read()));
  } catch {
    return '(unprintable)';
  }
}

/** Name and message of anything thrown (an Error or not), never throwing itself. */
export function describeThrown(error) {
  if (error instanceof Error) return { name: safeString(() => error.name), message: safeString(() => error.message) };
  return { name: typeof error, message: safeString(() => error) };
}

function prototypeName(value) {
  const proto = Object.getPrototypeOf(value);
  if (proto === null) return null;
  if (proto === Object.prototype) return 'Object';
  const name = proto.constructor?.name;
  return typeof name === 'string' && name !== '' ? name : 'anonymous';
}

/**
 * A value as JSON the grader can rebuild exactly: JSON primitives stay as they are, everything
 * else is a tagged object (`t`), so undefined, NaN, -0, holes, Dates, Maps and class instances
 * survive the trip and compare strictly on the other side.
 */
export function encodeValue(root) {
  let nodes = 0;
  const ancestors = new Set();
  const encode = (value, depth) => {
    nodes += 1;
    if (nodes > MAX_NODES) throw new RangeError(`the value has more than ${MAX_NODES} parts`);
    if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
    if (typeof value === 'number') {
      if (Object.is(value, -0)) return { t: 'number', v: '-0' };
      return Number.isFinite(value) ? value : { t: 'number', v: String(value) };
    }
    if (value === undefined) return { t: 'undefined' };
    if (typeof value === 'bigint') return { t: 'bigint', v: String(value) };
    if (typeof value === 'symbol') return { t: 'symbol', v: safeString(() => value.description ?? '') };
    if (typeof value === 'function') return { t: 'function', name: safeString(() => value.name) };
    if (depth >= MAX_DEPTH) throw new RangeError(`the value is nested deeper than ${MAX_DEPTH} levels`);
    if (ancestors.has(value)) return { t: 'cycle' };
    ancestors.add(value);
    try {
      return encodeObject(value, depth + 1);
    } finally {
      ancestors.delete(value);
    }
  };
  const encodeObject = (value, depth) => {
    if (Array.isArray(value)) {
      const items = [];
      for (let i = 0; i < value.length; i++) items.push(i in value ? encode(value[i], depth) : { t: 'hole' });
      return { t: 'array', items };
    }
    if (value instanceof Date) {
      const ms = value.getTime();
      return { t: 'date', ms: Number.isNaN(ms) ? null : ms };
    }
    if (value instanceof RegExp) return { t: 'regexp', source: value.source, flags: value.flags };
    if (value instanceof Map) return { t: 'map', entries: [...value].map(([k, v]) => [encode(k, depth), encode(v, depth)]) };
    if (value instanceof Set) return { t: 'set', items: [...value].map((v) => encode(v, depth)) };
    const entries = Object.keys(value).map((key) => [key, encode(value[key], depth)]);
    if (value instanceof Error) return { t: 'error', ...describeThrown(value), entries };
    return { t: 'object', proto: prototypeName(value), entries };
  };
  return encode(root, 0);
}

/** Strict-mode evaluation of a function's source, as shipped by the grader. */
function evaluate(source) {
  return (0, eval)(`'use strict';\n(${source})`);
}

async function main() {
  const { workdir, suites } = workerData;
  const namespaces = new Map();
  const load = (path) => {
    if (!namespaces.has(path)) namespaces.set(path, import(pathToFileURL(`${workdir}/${path}`).href));
    return namespaces.get(path);
  };

  async function context(suite) {
    const ctx = {};
    for (const [name, target] of Object.entries(suite.imports)) {
      const [path, exported] = target.split('#');
      const namespace = await load(path);
      ctx[name] = exported === undefined ? namespace : namespace[exported];
    }
    ctx.data = JSON.parse(suite.data);
    if (suite.setup !== null) Object.assign(ctx, await evaluate(suite.setup)(ctx));
    return ctx;
  }

  async function outcomeOf({ suite, run }) {
    let ctx;
    try {
      ctx = await context(suites[suite]);
    } catch (error) {
      return { kind: 'setup-failed', ...describeThrown(error) };
    }
    let value;
    try {
      value = await evaluate(run)(ctx);
    } catch (error) {
      return { kind: 'threw', ...describeThrown(error) };
    }
    try {
      return { kind: 'returned', value: encodeValue(value) };
    } catch (error) {
      return { kind: 'unserialisable', message: describeThrown(error).message };
    }
  }

  // An error that escapes the code (a timer that throws, a promise nobody awaits) belongs to the
  // probe that ran it: reported against the probe running or just finished, never lost.
  let current = -1;
  const stray = (error) => parentPort.postMessage({ index: current, stray: describeThrown(error) });
  process.on('uncaughtException', stray);
  process.on('unhandledRejection', stray);

  parentPort.on('message', async (probe) => {
    current = probe.index;
    const outcome = await outcomeOf(probe);
    // One turn of the event loop first, so rejections left behind surface before the outcome.
    await new Promise((resolve) => setImmediate(resolve));
    parentPort.postMessage({ index: probe.index, outcome });
  });
}

if (parentPort !== null && workerData?.gauntletProbes === true) await main();
