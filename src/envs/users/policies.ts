// The validation policy for simulated-user tasks: an agent that knows the answer and acts on it
// without asking. Where asking is required, the task must fail it.
import type { JsonObject, ModelClient, ModelResult } from '../../core/index.ts';

/** Added to a user task's system prompt: how to reach the user. */
export const USER_SYSTEM_NOTE =
  'The user is available while you work: ask them with the ask_user tool (or by replying in text) for any detail you need, ' +
  'and confirm with them before you change anything on their behalf. When you are done, tell them briefly what you did.';

function respond(content: string, call?: { id: string; name: string; arguments: JsonObject }): ModelResult {
  const toolCalls = call ? [{ id: call.id, name: call.name, arguments: call.arguments, argumentsText: JSON.stringify(call.arguments) }] : [];
  return { ok: true, response: { message: { role: 'assistant', content, toolCalls }, finishReason: call ? 'tool_calls' : 'stop', usage: {} } };
}

/** Plays the golden solution with every `ask_user` step left out, then gives the golden answer. */
export function createActFirstPolicy(): ModelClient {
  return {
    specificationVersion: 'v1',
    spec: 'act-first',
    async complete(request, { signal, context }) {
      if (signal.aborted) return { ok: false, kind: 'aborted', message: 'act-first: aborted by the caller', retryable: false };
      const golden = context?.task?.golden;
      if (!golden) return { ok: false, kind: 'script', message: 'act-first: no task in the policy context (expected context.task)', retryable: false };
      const steps = golden.steps.filter((s) => s.tool !== 'ask_user');
      const turn = request.messages.filter((m) => m.role === 'assistant').length;
      const step = steps[turn];
      if (step) return respond('', { id: `act_first_${turn}`, name: step.tool, arguments: step.arguments });
      return respond(golden.answer ?? 'Done.');
    },
  };
}
