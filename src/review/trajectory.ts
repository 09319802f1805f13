// A rollout's final attempt as the reviewer reads it (steps carrying only their new messages, so a
// 100-turn trajectory is not 100 copies of its history) and as exports read it (prompt + steps).
import type { DetectionFlag, DetectionRecord, FinishReason, Message, ModelCall, ModelCallPurpose, RolloutEvent, ToolCall, ToolMessage, Usage } from '../core/index.ts';

export interface ToolResultView {
  toolCallId: string;
  name: string;
  ok: boolean;
  content: string;
}

export interface StepView {
  /** The call's index within its attempt (what detector evidence and step labels point at). */
  index: number;
  callId: string;
  purpose: ModelCallPurpose;
  parentId: string | null;
  policyVersion: string | null;
  /**
   * `delta`: the messages added since the parent call's prompt and response (the prompt extends the
   * parent's exactly). Otherwise the full prompt (roots, summaries, the turn after a context reset).
   */
  request: { delta: boolean; messages: Message[] };
  response: { reasoning: string | null; content: string; toolCalls: ToolCall[]; finishReason: FinishReason } | null;
  error: { kind: string; message: string } | null;
  toolResults: ToolResultView[];
  latencyMs: number;
  usage: Usage;
  /** Detector flags whose evidence is this call. */
  flags: DetectionFlag[];
}

function resultsById(events: readonly RolloutEvent[]): Map<string, { ok: boolean; content: string }> {
  const out = new Map<string, { ok: boolean; content: string }>();
  for (const e of events) if (e.type === 'tool_result') out.set(e.data.id, { ok: e.data.ok, content: e.data.content });
  return out;
}

/** The final attempt's calls as steps. `calls` and `events` are the rollout's (any attempts); only `attempt`'s are used. */
export function stepsOf(options: { calls: readonly ModelCall[]; events: readonly RolloutEvent[]; attempt: number; findings?: DetectionRecord | undefined }): StepView[] {
  const calls = options.calls.filter((c) => c.attempt === options.attempt).sort((a, b) => a.index - b.index);
  const results = resultsById(options.events.filter((e) => e.attempt === options.attempt));
  const byId = new Map(calls.map((c) => [c.id as string, c]));
  return calls.map((call) => {
    const parent = call.parentId ? byId.get(call.parentId) : undefined;
    const delta = call.extendsParent === true && parent !== undefined && parent.request.messages.length < call.request.messages.length;
    const message = call.response?.message;
    return {
      index: call.index,
      callId: call.id,
      purpose: call.purpose,
      parentId: call.parentId,
      policyVersion: call.policyVersion ?? null,
      request: { delta, messages: delta ? call.request.messages.slice(parent!.request.messages.length + 1) : call.request.messages },
      response:
        call.response && message
          ? { reasoning: message.reasoning?.text ?? null, content: message.content, toolCalls: message.toolCalls, finishReason: call.response.finishReason }
          : null,
      error: call.error ? { kind: call.error.kind, message: call.error.message } : null,
      toolResults: (message?.toolCalls ?? []).flatMap((tc) => {
        const result = results.get(tc.id);
        return result ? [{ toolCallId: tc.id, name: tc.name, ...result }] : [];
      }),
      latencyMs: call.latencyMs,
      usage: call.response?.usage ?? {},
      flags: (options.findings?.flags ?? []).filter((f) => f.evidence.callIndex === call.index),
    };
  });
}

export interface TranscriptStep {
  callId: string;
  index: number;
  /** The assistant's turn, then the tool results (and any user follow-up) it got back. */
  messages: Message[];
}

export interface Transcript {
  /** What the model was given before its first turn (system and user messages). */
  prompt: Message[];
  steps: TranscriptStep[];
}

/** Messages after the last assistant message of a prompt: what answered the previous turn. */
function replies(messages: readonly Message[]): Message[] {
  let last = -1;
  messages.forEach((m, i) => {
    if (m.role === 'assistant') last = i;
  });
  return last < 0 ? [] : messages.slice(last + 1);
}

/**
 * The agent's turns of one attempt, in order, each with what answered it. Summary and judge calls
 * are not the agent acting and are left out; after a context reset the turns continue as they were taken.
 */
export function transcriptOf(options: { calls: readonly ModelCall[]; events: readonly RolloutEvent[]; attempt: number }): Transcript | null {
  const turns = options.calls.filter((c) => c.attempt === options.attempt && c.purpose === 'turn' && c.response !== null).sort((a, b) => a.index - b.index);
  const first = turns[0];
  if (!first) return null;
  const firstAssistant = first.request.messages.findIndex((m) => m.role === 'assistant');
  const prompt = firstAssistant < 0 ? first.request.messages : first.request.messages.slice(0, firstAssistant);
  const results = resultsById(options.events.filter((e) => e.attempt === options.attempt));
  const steps = turns.map((call, i) => {
    const message = call.response!.message;
    const next = turns[i + 1];
    // The last turn's tool results are in no later prompt; they come from the recorded events.
    const answered: Message[] = next
      ? replies(next.request.messages)
      : message.toolCalls.flatMap((tc): ToolMessage[] => {
          const result = results.get(tc.id);
          return result ? [{ role: 'tool', toolCallId: tc.id, name: tc.name, content: result.content, isError: !result.ok }] : [];
        });
    return { callId: call.id, index: call.index, messages: [message, ...answered] };
  });
  return { prompt, steps };
}
