// The coordinator's side of storing: a worker's result is checked record by record (it crossed a
// network and another machine's code) and replayed through the store's own recorders, so what is
// stored is what the in-process runner would have stored.
import type { z } from 'zod';
import {
  describeZodIssues,
  EventData,
  InputError,
  ModelCall,
  type EventDataOf,
  type EventType,
  type JsonValue,
  type RecordedEvent,
  type Rollout,
  type RolloutId,
  type RolloutRecorder,
  type RunId,
  type Store,
} from '../../core/index.ts';
import { CALL_NUMBERS, EVENT_NUMBERS, findNonFinite, hasNonFinite, NON_FINITE_KEY, parseWithNonFinite, pathText, restoreTags, ROLLOUT_NUMBERS, type NonFinitePolicy } from '../../store/index.ts';
import { wireBody } from './buffer.ts';
import { RolloutResult, type EncodedCall } from './jobs.ts';

type Entry = { kind: 'call'; call: ModelCall } | { kind: 'event'; event: RecordedEvent; at?: Date };

/** A result ready to store: validated, with every call's history rebuilt. */
export interface DecodedResult {
  rollout: Rollout;
  sessions: { attempt: number; entries: Entry[] }[];
}

/** The result's own numbers: the rollout's as the store has them; sessions hold calls and event data checked one by one below. */
const RESULT_NUMBERS: NonFinitePolicy = { refuse: (path, word) => (path[0] === 'rollout' ? ROLLOUT_NUMBERS.refuse(path.slice(1), word) : null) };

/**
 * `value` checked by `schema`, with a non-finite number in it judged by `policy`, as the store
 * judges it (a −∞ logprob is kept, a +∞ one or an infinite score refused: an InputError naming
 * it), rather than by the schema alone, which refuses every one.
 */
function safeParseNumbers<T>(schema: z.ZodType<T>, value: unknown, policy: NonFinitePolicy, where: string): z.ZodSafeParseResult<T> {
  if (!hasNonFinite(value)) return schema.safeParse(value);
  return parseWithNonFinite({
    schema,
    record: value,
    found: findNonFinite(value),
    policy,
    fail: (path, word, why) => {
      throw new InputError(`${where}: ${pathText(path)}`, `holds ${word}: ${why}`);
    },
  });
}

function parseNumbers<T>(schema: z.ZodType<T>, value: unknown, policy: NonFinitePolicy, where: string): T {
  const result = safeParseNumbers(schema, value, policy, where);
  if (result.success) return result.data;
  throw new InputError(where, `invalid content\n${describeZodIssues(result.error.issues)}`);
}

/**
 * The payload with the non-finite numbers its worker listed beside it put back (`resultPayload`);
 * a payload without the list (every result without such a number, and all from older workers) as it is.
 */
function withNumbers(payload: unknown, where: string): unknown {
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload) || !Object.hasOwn(payload, NON_FINITE_KEY)) return payload;
  const { [NON_FINITE_KEY]: tags, ...result } = payload as Record<string, unknown>;
  try {
    restoreTags(result, tags, `${where}: ${NON_FINITE_KEY}`);
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    throw new InputError(error.where, error.problem, 'a list of [path, "NaN" | "Infinity" | "-Infinity"] naming positions of the result that hold null, as a Gauntlet worker writes it');
  }
  return result;
}

function rebuildWire(parsed: ModelCall, previous: ModelCall | null, encoded: EncodedCall): void {
  const body = wireBody(parsed.wire?.request);
  if (!body) return;
  const before = wireBody(previous?.wire?.request);
  if (encoded.wireKeep !== null && Array.isArray(body.messages)) {
    const kept = before && Array.isArray(before.messages) ? before.messages.slice(0, encoded.wireKeep) : [];
    if (kept.length !== encoded.wireKeep) throw new Error(`keeps ${encoded.wireKeep} wire messages of a previous call that has ${kept.length}`);
    body.messages = [...kept, ...body.messages];
  }
  if (encoded.sameWireTools) {
    if (!before || before.tools === undefined) throw new Error('reuses the wire tools of a previous call that has none');
    body.tools = before.tools as JsonValue;
  }
}

/** Rebuilds one call against the previous one; kept messages and tools are the previous call's own objects. */
function decodeCall(encoded: EncodedCall, previous: ModelCall | null, where: string): ModelCall {
  const parsed = parseNumbers(ModelCall, encoded.call, CALL_NUMBERS, where);
  try {
    const kept = previous ? previous.request.messages.slice(0, encoded.keep) : [];
    if (kept.length !== encoded.keep) throw new Error(`keeps ${encoded.keep} messages of a previous call that has ${kept.length}`);
    parsed.request.messages = [...kept, ...parsed.request.messages];
    if (encoded.sameTools) {
      if (!previous) throw new Error('reuses the tools of a previous call that does not exist');
      parsed.request.tools = previous.request.tools;
    }
    rebuildWire(parsed, previous, encoded);
  } catch (error) {
    throw new InputError(where, error instanceof Error ? error.message : String(error), 'a delta against the previous call of the same attempt');
  }
  return parsed;
}

function parseEventData(type: EventType, data: unknown, at: string): unknown {
  const parsed = safeParseNumbers(EventData[type] as z.ZodType<unknown>, data, EVENT_NUMBERS, `${at}: data`);
  if (!parsed.success) throw new InputError(at, `bad ${type} event:\n${describeZodIssues(parsed.error.issues, 'data')}`);
  return parsed.data;
}

/**
 * A rollout that was not scored (an infra error, an error, a cancel) carries no score, pass,
 * reward or reward terms: the runner never gives it one, so a result that does is refused
 * rather than stored as a score it did not earn.
 */
function checkUnscored(rollout: Rollout, where: string): void {
  if (rollout.status === 'scored') return;
  const claims = [
    rollout.score !== null ? `score ${rollout.score}` : null,
    rollout.passed !== null ? `passed ${rollout.passed}` : null,
    rollout.reward !== undefined && rollout.reward !== null ? `reward ${rollout.reward}` : null,
    rollout.rewardTerms.length > 0 ? `${rollout.rewardTerms.length} reward terms` : null,
  ].filter((claim) => claim !== null);
  if (claims.length > 0) throw new InputError(`${where}: rollout`, `has status ${rollout.status} and ${claims.join(', ')}`, 'null score, passed and reward, and no reward terms, unless the status is scored');
}

/**
 * Parses and checks a worker's result for `rolloutId` of `runId`: every record must belong to
 * that rollout. Throws an InputError naming the record that is wrong.
 */
export function decodeResult(payload: unknown, expected: { runId: RunId; rolloutId: RolloutId; taskId: string; epoch: number }): DecodedResult {
  const where = `result of ${expected.rolloutId}`;
  const result = parseNumbers(RolloutResult, withNumbers(payload, where), RESULT_NUMBERS, where);
  const { rollout } = result;
  if (rollout.id !== expected.rolloutId || rollout.runId !== expected.runId) {
    throw new InputError(`${where}: rollout`, `is ${rollout.runId}/${rollout.id}`, `${expected.runId}/${expected.rolloutId}`);
  }
  // The id is derived from the task and epoch; a record naming others would be stored under the wrong task.
  if (rollout.taskId !== expected.taskId || rollout.epoch !== expected.epoch) {
    throw new InputError(`${where}: rollout`, `is of task ${rollout.taskId} epoch ${rollout.epoch}`, `task ${expected.taskId} epoch ${expected.epoch}`);
  }
  checkUnscored(rollout, where);
  const sessions = result.sessions.map((session, s) => {
    let previous: ModelCall | null = null;
    const entries = session.entries.map((entry, e): Entry => {
      const at = `${where}: sessions.${s}.entries.${e}`;
      if (entry.kind === 'event') {
        const data = parseEventData(entry.type, entry.data, at);
        return { kind: 'event', event: { type: entry.type, data } as RecordedEvent, ...(entry.at ? { at: new Date(entry.at) } : {}) };
      }
      const call = decodeCall(entry.encoded, previous, at);
      if (call.runId !== expected.runId || call.rolloutId !== expected.rolloutId || call.attempt !== session.attempt) {
        throw new InputError(at, `a call of ${call.runId}/${call.rolloutId} attempt ${call.attempt}`, `calls of ${expected.rolloutId} attempt ${session.attempt}`);
      }
      previous = call;
      return { kind: 'call', call };
    });
    return { attempt: session.attempt, entries };
  });
  return { rollout, sessions };
}

function emit<T extends EventType>(recorder: RolloutRecorder, event: { type: T; data: EventDataOf<T> }, at: Date | undefined): void {
  recorder.event(event.type, event.data, at);
}

/** Writes the result's calls and events through fresh store recorders, then commits the rollout (one transaction). */
export function commitResult(store: Pick<Store, 'recorder' | 'commitRollout'>, result: DecodedResult): void {
  replayResult(store, result);
  store.commitRollout(result.rollout);
}

/** Hands the result's calls and events to fresh store recorders (stored with the next commit). */
export function replayResult(store: Pick<Store, 'recorder'>, result: DecodedResult): void {
  const { rollout } = result;
  for (const session of result.sessions) {
    const recorder = store.recorder({ runId: rollout.runId, rolloutId: rollout.id, attempt: session.attempt });
    for (const entry of session.entries) {
      if (entry.kind === 'call') recorder.modelCall(entry.call);
      else emit(recorder, entry.event, entry.at);
    }
  }
}
