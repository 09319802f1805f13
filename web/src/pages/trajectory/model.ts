// Turns the API's steps into what one card shows: the messages this call added (user turns,
// environment notes), its output, and each tool call beside its result. Results arrive either
// on the step that made the call (`toolResults`) or as tool messages in the next call's delta;
// either way they are shown once, under the call.
import type { DetectionFlag, Label, Message, RolloutDetail, Step, StepLabel, ToolCall, ToolResult, VerdictLabel } from '../../api/schemas.ts';

export interface CallView {
  call: ToolCall;
  result: ToolResult | null;
}

export interface StepView {
  step: Step;
  /** Messages new to this call other than tool results already shown under their calls. */
  added: Message[];
  calls: CallView[];
  flags: DetectionFlag[];
  /** Every rating of this step, newest first (history is kept; the newest per reviewer counts). */
  ratings: StepLabel[];
}

export function buildSteps(steps: readonly Step[], labels: readonly Label[]): StepView[] {
  const results = new Map<string, ToolResult>();
  for (const step of steps) {
    for (const result of step.toolResults) results.set(result.toolCallId, result);
    for (const message of step.request.messages) {
      if (message.role === 'tool' && !results.has(message.toolCallId)) {
        results.set(message.toolCallId, { toolCallId: message.toolCallId, name: message.name, content: message.content, ok: !message.isError });
      }
    }
  }
  const shownUnderCall = new Set<string>();
  for (const step of steps) for (const call of step.response?.toolCalls ?? []) if (results.has(call.id)) shownUnderCall.add(call.id);

  const ratingsByCall = groupBy(
    labels.filter((l): l is StepLabel => l.kind === 'step'),
    (l) => l.callId,
  );

  return steps.map((step) => ({
    step,
    added: step.request.messages.filter((m) => !(m.role === 'tool' && shownUnderCall.has(m.toolCallId))),
    calls: (step.response?.toolCalls ?? []).map((call) => ({ call, result: results.get(call.id) ?? null })),
    flags: step.flags,
    ratings: (ratingsByCall.get(step.callId) ?? []).sort(newestFirst),
  }));
}

/** Every detector flag on the rollout's final attempt; none when the detectors have not examined it. */
export function flagsOf(detail: RolloutDetail): DetectionFlag[] {
  return detail.detections.examined ? (detail.detections.flags as DetectionFlag[]) : [];
}

export function verdictHistory(labels: readonly Label[]): VerdictLabel[] {
  return labels.filter((l): l is VerdictLabel => l.kind === 'verdict').sort(newestFirst);
}

function newestFirst(a: { createdAt: string }, b: { createdAt: string }): number {
  return b.createdAt.localeCompare(a.createdAt);
}

function groupBy<T, K>(items: readonly T[], key: (item: T) => K): Map<K, T[]> {
  const out = new Map<K, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = out.get(k);
    if (list) list.push(item);
    else out.set(k, [item]);
  }
  return out;
}
