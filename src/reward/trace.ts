// What composing a reward reads of one attempt, kept in memory as it is recorded: the tool calls
// and their results (for process terms), when the agent started and last acted (for duration),
// and, only when a term needs the whole trajectory, the model calls themselves.
import {
  SCHEMA_VERSION,
  type AttemptIdentity,
  type AttemptsSpend,
  type AttemptRecorder,
  type EventDataOf,
  type EventType,
  type ModelCall,
  type RolloutEvent,
} from '../core/index.ts';

export interface ToolUse {
  id: string;
  name: string;
  arguments: string;
  /** null when the episode ended before the tool answered. */
  result: { ok: boolean; content: string } | null;
}

export interface AttemptTrace {
  readonly identity: AttemptIdentity;
  /** Tool calls in the order the agent made them. */
  readonly tools: readonly ToolUse[];
  /** Model calls, when kept (`keepCalls`). */
  readonly calls: readonly ModelCall[];
  /** `tool_result` events in stored form, when calls are kept (the trajectory's last turn reads them). */
  readonly events: readonly RolloutEvent[];
  /**
   * Clock readings (by `now`): when the agent loop started (its first model call's start for a
   * driver that announces none) and when the agent last acted (a model call or a tool result).
   */
  readonly startedAt: number | null;
  readonly lastAt: number | null;
  /** The agent's model calls and their tokens, and its tool calls, as recorded: what the attempt spent, however it ended. */
  readonly spend: AttemptSpend;
}

/** Judges' and simulated users' calls go to endpoints of their own and are not the agent's spend (nor in its `stats`). */
export type AttemptSpend = Omit<AttemptsSpend, 'attempts'>;

const spentOn = (call: ModelCall): boolean => call.purpose !== 'judge' && call.purpose !== 'user';

function addCall(spend: AttemptSpend, call: ModelCall): void {
  if (!spentOn(call)) return;
  spend.modelCalls++;
  spend.promptTokens += call.response?.usage.promptTokens ?? 0;
  spend.completionTokens += call.response?.usage.completionTokens ?? 0;
}

export interface TraceOptions {
  identity: AttemptIdentity;
  now: () => number;
  /** Keep every model call (detector and rubric terms rebuild the trajectory from them). */
  keepCalls: boolean;
  /** Told the attempt's spend each time it grows (an agent's model call or tool call was recorded). */
  onSpend?: (spend: AttemptSpend) => void;
}

/**
 * A recorder that passes everything to `inner` and keeps what the reward needs. Once `inner` is
 * sealed (the watchdog abandoned the attempt) nothing more is kept either.
 */
export function traceAttempt(inner: AttemptRecorder, options: TraceOptions): { recorder: AttemptRecorder; trace: AttemptTrace } {
  const tools: ToolUse[] = [];
  const pending = pendingResults();
  const calls: ModelCall[] = [];
  const events: RolloutEvent[] = [];
  const spend: AttemptSpend = { modelCalls: 0, toolCalls: 0, promptTokens: 0, completionTokens: 0 };
  const trace = { identity: options.identity, tools, calls, events, startedAt: null as number | null, lastAt: null as number | null, spend };
  const recorder: AttemptRecorder = {
    modelCall(call) {
      inner.modelCall(call);
      if (inner.sealed) return;
      if (spentOn(call)) {
        addCall(spend, call);
        options.onSpend?.(spend);
      }
      if (options.keepCalls) calls.push(call);
      if (call.purpose === 'turn' || call.purpose === 'subagent') {
        trace.lastAt = options.now();
        // A driver that announces no start (an external agent): its first call's start stands in.
        trace.startedAt ??= trace.lastAt - call.latencyMs;
      }
    },
    event<T extends EventType>(type: T, data: EventDataOf<T>, when?: Date) {
      inner.event(type, data, when);
      if (inner.sealed) return;
      const at = options.now();
      if (type === 'rollout_started') trace.startedAt = at;
      else if (type === 'tool_call') {
        spend.toolCalls++;
        options.onSpend?.(spend);
        const d = data as EventDataOf<'tool_call'>;
        const use = { id: d.id, name: d.name, arguments: d.arguments, result: null };
        tools.push(use);
        pending.add(use);
      } else if (type === 'tool_result') {
        const d = data as EventDataOf<'tool_result'>;
        pending.resolve(d.id, { ok: d.ok, content: d.content });
        trace.lastAt = at;
        if (options.keepCalls) {
          events.push({ schemaVersion: SCHEMA_VERSION, ...options.identity, seq: events.length, at: new Date(at).toISOString(), type: 'tool_result', data: d });
        }
      }
    },
    seal: () => inner.seal(),
    get sealed() {
      return inner.sealed;
    },
  };
  return { recorder, trace };
}

/** Tool calls waiting for their results, by id; some providers repeat ids, so each id holds a queue. */
function pendingResults() {
  const waiting = new Map<string, ToolUse[]>();
  return {
    add(use: ToolUse) {
      const queue = waiting.get(use.id);
      if (queue) queue.push(use);
      else waiting.set(use.id, [use]);
    },
    resolve(id: string, result: NonNullable<ToolUse['result']>) {
      const use = waiting.get(id)?.shift();
      if (use) use.result = result;
    },
  };
}

/** A trace built from records already stored (composing a reward for a stored rollout, tests). */
export function traceOf(identity: AttemptIdentity, calls: readonly ModelCall[], events: readonly RolloutEvent[]): AttemptTrace {
  const tools: ToolUse[] = [];
  const pending = pendingResults();
  let startedAt: number | null = null;
  let lastAt: number | null = null;
  const mine = events.filter((e) => e.attempt === identity.attempt).sort((a, b) => a.seq - b.seq);
  for (const event of mine) {
    const at = Date.parse(event.at);
    if (event.type === 'rollout_started') startedAt = at;
    if (event.type === 'tool_call') {
      const use = { id: event.data.id, name: event.data.name, arguments: event.data.arguments, result: null };
      tools.push(use);
      pending.add(use);
    }
    if (event.type === 'tool_result') {
      pending.resolve(event.data.id, { ok: event.data.ok, content: event.data.content });
      lastAt = Math.max(lastAt ?? at, at);
    }
  }
  const acting = calls.filter((c) => c.attempt === identity.attempt && (c.purpose === 'turn' || c.purpose === 'subagent'));
  for (const call of acting) lastAt = Math.max(lastAt ?? 0, Date.parse(call.startedAt) + call.latencyMs);
  if (startedAt === null && acting.length > 0) startedAt = Math.min(...acting.map((c) => Date.parse(c.startedAt)));
  const attemptCalls = calls.filter((c) => c.attempt === identity.attempt);
  const spend: AttemptSpend = { modelCalls: 0, toolCalls: tools.length, promptTokens: 0, completionTokens: 0 };
  for (const call of attemptCalls) addCall(spend, call);
  return { identity, tools, calls: attemptCalls, events: mine.filter((e) => e.type === 'tool_result'), startedAt, lastAt, spend };
}
