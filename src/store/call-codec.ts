// Model calls are stored as deltas: a call's request messages are the previous call's first `keep`
// messages plus a tail, and the tool list is stored once per attempt, so a 100-turn rollout does
// not store its history 100 times. Reading rebuilds every request exactly.
import { errorMessage, jsonText, StoredDataError, type JsonValue, type Message, type ModelCall, type ToolSpec } from '../core/index.ts';
import { findNonFinite, hasNonFinite, NON_FINITE_KEY, restoreTags, type NonFiniteAt } from './non-finite.ts';

/** Per attempt: what the previous call sent, to encode the next one against. */
export interface DeltaState {
  lastCallId: string | null;
  messages: readonly Message[];
  tools: readonly ToolSpec[] | null;
  toolsCallId: string | null;
  /** The wire body's own tool list as last stored in full, and its JSON once computed. */
  wireTools: Serialised | null;
  wireToolsCallId: string | null;
  wireMessages: Serialised[];
}

export function emptyDeltaState(): DeltaState {
  return { lastCallId: null, messages: [], tools: null, toolsCallId: null, wireTools: null, wireToolsCallId: null, wireMessages: [] };
}

/**
 * A wire value with its JSON, serialised only when needed. Adapters reuse the objects they built
 * for earlier calls, so equal references settle almost every comparison without serialising the
 * whole conversation (and the ~8 KB tool list) on every call; different objects are compared by
 * their JSON, as before.
 */
class Serialised {
  private text: string | undefined;
  private holdsNonFinite: boolean | undefined;
  constructor(readonly value: JsonValue) {}
  get json(): string {
    this.text ??= jsonText(this.value);
    return this.text;
  }
  /** Whether it holds NaN or ±Infinity, which its JSON writes as null. */
  get nonFinite(): boolean {
    this.holdsNonFinite ??= hasNonFinite(this.value);
    return this.holdsNonFinite;
  }
  sameAs(other: Serialised): boolean {
    if (this.value === other.value) return true;
    // Equal JSON is not equal values where either holds a number JSON writes as null.
    return this.json === other.json && !this.nonFinite && !other.nonFinite;
  }
}

export interface EncodedCall {
  messagesBase: string | null;
  messagesKeep: number;
  messagesTail: string;
  wireMessagesBase: string | null;
  wireMessagesKeep: number;
  wireMessagesTail: string | null;
  toolsFrom: string | null;
  json: string;
}

/** Scaffolds resend the same message objects, so comparing by reference finds the shared prefix in O(n). */
function commonPrefixByReference<T>(a: readonly T[], b: readonly T[]): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

function wireMessagesOf(request: JsonValue | undefined): JsonValue[] | null {
  if (request && typeof request === 'object' && !Array.isArray(request) && Array.isArray(request.messages)) return request.messages;
  return null;
}

/** How deep the stored record holds its tool lists: `request.tools`, and `wire.request.tools` a level further down. */
const TOOL_LISTS_DEPTH = 3;

/** Internal key of the stored row: the call whose wire body holds this call's identical tool list. */
const WIRE_TOOLS_FROM = '$wireToolsFrom';

/**
 * Encodes `call` against `state` and advances the state. `scrub` is applied to every string
 * written. `check` sees a call whose row holds non-finite numbers before anything is encoded or
 * the state advances, and may throw to refuse it.
 */
export function encodeCall(call: ModelCall, state: DeltaState, scrub: (json: string) => string, check?: (call: ModelCall) => void): EncodedCall {
  const messages = call.request.messages;
  const keep = state.lastCallId ? commonPrefixByReference(state.messages, messages) : 0;
  const wireMessages = wireMessagesOf(call.wire?.request);
  let wireBase: string | null = null;
  let wireKeep = 0;
  let wireTail: string | null = null;
  let wireValues: Serialised[] = [];
  if (wireMessages) {
    wireValues = wireMessages.map((m, i) => (state.wireMessages[i]?.value === m ? state.wireMessages[i] : new Serialised(m)));
    while (wireKeep < Math.min(wireValues.length, state.wireMessages.length) && wireValues[wireKeep]!.sameAs(state.wireMessages[wireKeep]!)) wireKeep++;
    wireBase = wireKeep > 0 ? state.lastCallId : null;
    wireTail = scrub(`[${wireValues.slice(wireKeep).map((m) => m.json).join(',')}]`);
  }
  const toolsFrom = state.tools === call.request.tools ? state.toolsCallId : null;
  // The wire body repeats the tool list (~8 KB for a typical environment) on every call: keep it once.
  const wireRequest = call.wire?.request;
  const wireTools = wireRequest && typeof wireRequest === 'object' && !Array.isArray(wireRequest) && wireRequest.tools !== undefined ? new Serialised(wireRequest.tools) : null;
  const wireToolsFrom = wireTools !== null && state.wireTools !== null && wireTools.sameAs(state.wireTools) ? state.wireToolsCallId : null;
  let strippedWire: Record<string, JsonValue> | null = null;
  if (call.wire && (wireMessages || wireToolsFrom)) {
    // The key stays where it was (null here), so the rebuilt body keeps its field order.
    const request = call.wire.request as Record<string, JsonValue>;
    strippedWire = { ...request, ...(wireToolsFrom ? { tools: null } : {}), ...(wireMessages ? { messages: [] } : {}) };
  }
  // A call that stores a tool list whole (an attempt's first) reuses the list's JSON where its
  // builder kept it (the ~8 KB wire list always, the neutral one when marked): serialising both
  // anew was most of an attempt's first encoding.
  const toolListStored = !toolsFrom || (wireTools !== null && !wireToolsFrom);
  const stripped = {
    ...call,
    request: { ...call.request, messages: [], ...(toolsFrom ? { tools: [] } : {}) },
    ...(call.wire && strippedWire ? { wire: { ...call.wire, request: strippedWire } } : {}),
    ...(wireToolsFrom ? { [WIRE_TOOLS_FROM]: wireToolsFrom } : {}),
  };
  // Only what this row stores is searched: kept messages and lists were searched in the call that stored them.
  const newMessages = messages.slice(keep);
  const newWireMessages = wireValues.slice(wireKeep);
  if (hasNonFinite(stripped) || hasNonFinite(newMessages) || newWireMessages.some((m) => m.nonFinite)) {
    check?.(call);
    // Listed by the column they are stored in, each path relative to it.
    const tags: Record<string, NonFiniteAt[]> = {
      json: findNonFinite(stripped),
      messages: findNonFinite(newMessages),
      wireMessages: findNonFinite(newWireMessages.map((m) => m.value)),
    };
    (stripped as Record<string, unknown>)[NON_FINITE_KEY] = Object.fromEntries(Object.entries(tags).filter(([, found]) => found.length > 0));
  }
  const encoded: EncodedCall = {
    messagesBase: keep > 0 ? state.lastCallId : null,
    messagesKeep: keep,
    messagesTail: scrub(JSON.stringify(newMessages)),
    wireMessagesBase: wireBase,
    wireMessagesKeep: wireKeep,
    wireMessagesTail: wireTail,
    toolsFrom,
    json: scrub(toolListStored ? jsonText(stripped as unknown as JsonValue, TOOL_LISTS_DEPTH) : JSON.stringify(stripped)),
  };
  if (!toolsFrom) {
    state.tools = call.request.tools;
    state.toolsCallId = call.id;
  }
  if (wireTools !== null && !wireToolsFrom) {
    state.wireTools = wireTools;
    state.wireToolsCallId = call.id;
  }
  state.lastCallId = call.id;
  state.messages = messages;
  state.wireMessages = wireValues;
  return encoded;
}

export interface CallRow {
  id: string;
  messages_base: string | null;
  messages_keep: number;
  messages_tail: string;
  wire_messages_base: string | null;
  wire_messages_keep: number;
  wire_messages_tail: string | null;
  tools_from: string | null;
  json: string;
}

/** A call record rebuilt from its row, not yet validated. */
export interface DecodedCall {
  record: Record<string, unknown>;
  /** Whether it may hold NaN or ±Infinity (its own row lists some, or a call it keeps parts of does). */
  nonFinite: boolean;
}

/**
 * Rebuilds raw call records (not yet validated) from rows in (attempt, index) order. A damaged row
 * (not JSON, the wrong shape, a base that is not stored before it) is a StoredDataError at
 * `where(row)` naming the column, never a record rebuilt wrong.
 */
export function decodeCalls(rows: readonly CallRow[], where: (row: CallRow) => string): DecodedCall[] {
  const messagesById = new Map<string, unknown[]>();
  const toolsById = new Map<string, unknown>();
  const wireById = new Map<string, unknown[]>();
  const wireToolsById = new Map<string, unknown>();
  // Calls whose rebuilt parts hold non-finite numbers; a call keeping any of their parts may too.
  const holding = new Set<string>();
  return rows.map((row) => {
    const column = new StoredColumns(row, where(row));
    const messagesBase = column.base('messages_base', row.messages_base, row.messages_keep, messagesById);
    const messagesTail = column.array('messages_tail', row.messages_tail);
    const raw = column.record();
    const tags = column.nonFinite(raw);
    if (tags.json !== undefined) restoreTags(raw, tags.json, `${where(row)}: json.${NON_FINITE_KEY}.json`);
    if (tags.messages !== undefined) restoreTags(messagesTail, tags.messages, `${where(row)}: json.${NON_FINITE_KEY}.messages`);
    let nonFinite = Object.keys(tags).length > 0 || (row.messages_keep > 0 && holding.has(row.messages_base!));
    const messages = [...messagesBase, ...messagesTail];
    messagesById.set(row.id, messages);
    raw.request.messages = messages;
    if (row.tools_from) {
      raw.request.tools = column.reference('tools_from', row.tools_from, toolsById);
      nonFinite ||= holding.has(row.tools_from);
    } else toolsById.set(row.id, raw.request.tools);
    const wireToolsFrom = (raw as Record<string, unknown>)[WIRE_TOOLS_FROM];
    if (typeof wireToolsFrom === 'string' && raw.wire) {
      delete (raw as Record<string, unknown>)[WIRE_TOOLS_FROM];
      raw.wire.request.tools = column.reference(`json.${WIRE_TOOLS_FROM}`, wireToolsFrom, wireToolsById);
      nonFinite ||= holding.has(wireToolsFrom);
    } else if (raw.wire && raw.wire.request.tools !== undefined) wireToolsById.set(row.id, raw.wire.request.tools);
    const wireMessagesHeld = raw.wire?.request.messages;
    if (row.wire_messages_tail === null && Array.isArray(wireMessagesHeld) && wireMessagesHeld.length === 0) {
      // Stored with its messages taken out (the empty list the encoder leaves), which only
      // wire_messages_tail (and its base) hold; a request stored whole keeps its own.
      throw new StoredDataError(`${where(row)}: wire_messages_tail`, 'is empty, yet the wire request had its messages taken out to be stored there', `a JSON array of messages (${WRITTEN_BY_GAUNTLET})`);
    }
    if (row.wire_messages_tail !== null && raw.wire) {
      const wireBase = column.base('wire_messages_base', row.wire_messages_base, row.wire_messages_keep, wireById);
      const wireTail = column.array('wire_messages_tail', row.wire_messages_tail);
      if (tags.wireMessages !== undefined) restoreTags(wireTail, tags.wireMessages, `${where(row)}: json.${NON_FINITE_KEY}.wireMessages`);
      nonFinite ||= row.wire_messages_keep > 0 && holding.has(row.wire_messages_base!);
      const wireMessages = [...wireBase, ...wireTail];
      wireById.set(row.id, wireMessages);
      raw.wire.request.messages = wireMessages;
    } else if (tags.wireMessages !== undefined) {
      throw new StoredDataError(`${where(row)}: json.${NON_FINITE_KEY}.wireMessages`, 'lists numbers of wire messages, yet the row stores none', WRITTEN_BY_GAUNTLET);
    }
    if (nonFinite) holding.add(row.id);
    return { record: raw as Record<string, unknown>, nonFinite };
  });
}

type RawCall = { request: Record<string, unknown>; wire?: { request: Record<string, unknown> } };

const WRITTEN_BY_GAUNTLET = 'a row written by Gauntlet';

/** The columns of one stored call, each read with an error that names it. */
class StoredColumns {
  constructor(
    private readonly row: CallRow,
    private readonly at: string,
  ) {}

  private parse(column: string, text: string): unknown {
    try {
      return JSON.parse(text) as unknown;
    } catch (error) {
      throw new StoredDataError(`${this.at}: ${column}`, `is not valid JSON (${errorMessage(error)})`, WRITTEN_BY_GAUNTLET);
    }
  }

  array(column: string, text: string): unknown[] {
    const value = this.parse(column, text);
    if (!Array.isArray(value)) throw new StoredDataError(`${this.at}: ${column}`, `is ${kindOf(value)}`, `a JSON array of messages (${WRITTEN_BY_GAUNTLET})`);
    return value;
  }

  record(): RawCall {
    const value = this.parse('json', this.row.json);
    if (!isObject(value) || !isObject(value.request)) throw new StoredDataError(`${this.at}: json`, `is ${isObject(value) ? 'an object without a request object' : kindOf(value)}`, `a model call object with its request (${WRITTEN_BY_GAUNTLET})`);
    if (value.wire !== undefined && !(isObject(value.wire) && isObject(value.wire.request))) throw new StoredDataError(`${this.at}: json.wire`, 'has no request object', `the wire exchange with its request (${WRITTEN_BY_GAUNTLET})`);
    return value as RawCall;
  }

  /** The lists of non-finite numbers the row keeps beside its JSON (taken out of `raw`), by column. */
  nonFinite(raw: RawCall): Partial<Record<'json' | 'messages' | 'wireMessages', unknown>> {
    const record = raw as Record<string, unknown>;
    if (!Object.hasOwn(record, NON_FINITE_KEY)) return {};
    const tags = record[NON_FINITE_KEY];
    delete record[NON_FINITE_KEY];
    const known = ['json', 'messages', 'wireMessages'];
    if (!isObject(tags) || Object.keys(tags).some((key) => !known.includes(key))) {
      throw new StoredDataError(`${this.at}: json.${NON_FINITE_KEY}`, `is ${isObject(tags) ? `an object with keys ${Object.keys(tags).join(', ')}` : kindOf(tags)}`, `an object of json, messages and wireMessages lists (${WRITTEN_BY_GAUNTLET})`);
    }
    return tags;
  }

  /** The first `keep` messages of the call named by `baseId`, which must be stored before this one. */
  base(column: string, baseId: string | null, keep: number, byId: ReadonlyMap<string, unknown[]>): unknown[] {
    const keepColumn = column.replace('base', 'keep');
    // A keep that is not a count, or one without its base, would silently rebuild the request short.
    if (!Number.isSafeInteger(keep) || keep < 0) throw new StoredDataError(`${this.at}: ${keepColumn}`, `is ${JSON.stringify(keep)}`, `a count of messages, 0 or more (${WRITTEN_BY_GAUNTLET})`);
    if (!baseId) {
      if (keep > 0) throw new StoredDataError(`${this.at}: ${column}`, `is empty, yet ${keepColumn} keeps ${keep} messages of it`, `the id of the call whose messages it keeps (${WRITTEN_BY_GAUNTLET})`);
      return [];
    }
    const base = this.reference(column, baseId, byId) as unknown[];
    if (keep > base.length) throw new StoredDataError(`${this.at}: ${keepColumn}`, `keeps ${keep} messages of call ${baseId}, which has ${base.length}`, WRITTEN_BY_GAUNTLET);
    return base.slice(0, keep);
  }

  reference<T>(column: string, id: string, byId: ReadonlyMap<string, T>): T {
    if (!byId.has(id)) throw new StoredDataError(`${this.at}: ${column}`, `names call ${id}, which is not stored before this one in its rollout`, WRITTEN_BY_GAUNTLET);
    return byId.get(id)!;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}
