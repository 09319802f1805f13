// The coordinator's side of storing: a worker's result is checked record by record (it crossed a
// network and another machine's code) and replayed through the store's own recorders, so what is
// stored is what the in-process runner would have stored.
import {
  describeZodIssues,
  EventData,
  InputError,
  ModelCall,
  parseInput,
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
import { wireBody } from './buffer.ts';
import { RolloutResult, type EncodedCall } from './jobs.ts';

type Entry = { kind: 'call'; call: ModelCall } | { kind: 'event'; event: RecordedEvent; at?: Date };

/** A result ready to store: validated, with every call's history rebuilt. */
export interface DecodedResult {
  rollout: Rollout;
  sessions: { attempt: number; entries: Entry[] }[];
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
  const parsed = parseInput(ModelCall, encoded.call, where);
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

/**
 * Parses and checks a worker's result for `rolloutId` of `runId`: every record must belong to
 * that rollout. Throws an InputError naming the record that is wrong.
 */
export function decodeResult(payload: unknown, expected: { runId: RunId; rolloutId: RolloutId }): DecodedResult {
  const where = `result of ${expected.rolloutId}`;
  const result = parseInput(RolloutResult, payload, where);
  const { rollout } = result;
  if (rollout.id !== expected.rolloutId || rollout.runId !== expected.runId) {
    throw new InputError(`${where}: rollout`, `is ${rollout.runId}/${rollout.id}`, `${expected.runId}/${expected.rolloutId}`);
  }
  const sessions = result.sessions.map((session, s) => {
    let previous: ModelCall | null = null;
    const entries = session.entries.map((entry, e): Entry => {
      const at = `${where}: sessions.${s}.entries.${e}`;
      if (entry.kind === 'event') {
        const data = EventData[entry.type].safeParse(entry.data);
        if (!data.success) throw new InputError(at, `bad ${entry.type} event:\n${describeZodIssues(data.error.issues, 'data')}`);
        return { kind: 'event', event: { type: entry.type, data: data.data } as RecordedEvent, ...(entry.at ? { at: new Date(entry.at) } : {}) };
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
