import { z } from 'zod';
import { stableStringify, type Message, type ModelCall } from '../../../core/index.ts';
import { trainingParents } from '../../trajectory/index.ts';
import { ChatMessage, chatMessage, chatMessageColumn, ChatTool, chatTool, chatToolColumn } from '../chat.ts';
import { pq } from '../parquet.ts';
import { callSampleId, defineTarget, type ExportUnit } from '../unit.ts';

// Supervised fine-tuning rows for rejection sampling and distillation, in the conversational
// shape TRL's SFTTrainer reads: `messages` (reasoning under `reasoning_content`, tool calls with
// object arguments) and a `tools` column. One row per context: a call whose conversation no later
// call continued (the final turn, a summary, a sub-agent's last turn). Token ids are not needed.

const SftRow = z.strictObject({
  messages: z.array(ChatMessage).min(2),
  tools: z.array(ChatTool),
  purpose: z.string(),
  task_id: z.string(),
  env: z.string(),
  model: z.string(),
  passed: z.boolean().nullable(),
  reward: z.number(),
  group_id: z.string().min(1),
  rollout_id: z.string().min(1),
  sample_id: z.string().min(1),
});
export type SftRow = z.infer<typeof SftRow>;

/** Compared as sent, except the drop-thinking flag: the SFT row keeps every turn's reasoning anyway. */
function key(message: Message): string {
  return stableStringify(message.role === 'assistant' ? { ...message, reasoningDropped: undefined } : message);
}

function continues(parent: ModelCall, child: ModelCall): boolean {
  const expected = [...parent.request.messages, ...(parent.response ? [parent.response.message] : [])];
  const actual = child.request.messages;
  return actual.length >= expected.length && expected.every((m, i) => key(m) === key(actual[i] as Message));
}

/** Calls whose conversation no later call carried on. */
export function contextEnds(calls: readonly ModelCall[]): ModelCall[] {
  const parents = trainingParents(calls);
  const continued = new Set<string>();
  for (const call of calls) {
    const parent = parents.get(call.id);
    if (parent && continues(parent, call)) continued.add(parent.id);
  }
  return calls.filter((c) => parents.has(c.id) && !continued.has(c.id));
}

function rows(unit: ExportUnit): SftRow[] {
  return contextEnds(unit.calls).map((call) => ({
    messages: [...call.request.messages, ...(call.response ? [call.response.message] : [])].map(chatMessage),
    tools: call.request.tools.map(chatTool),
    purpose: call.purpose,
    task_id: unit.rollout.taskId,
    env: unit.rollout.env,
    model: unit.rollout.model,
    passed: unit.rollout.passed,
    reward: unit.reward,
    group_id: unit.group.id,
    rollout_id: unit.rollout.id,
    sample_id: callSampleId(unit.rollout.id, call.index),
  }));
}

export const sft = defineTarget<SftRow>({
  name: 'sft',
  variant: 'messages',
  description: 'SFT rows in TRL conversational form: messages (with reasoning_content and tool_calls) and tools, one per context',
  needs: { tokens: false, logprobs: false, temperature: false },
  schema: SftRow,
  columns: {
    messages: pq.list(chatMessageColumn),
    tools: pq.list(chatToolColumn),
    purpose: pq.string(),
    task_id: pq.string(),
    env: pq.string(),
    model: pq.string(),
    passed: pq.nullable(pq.bool()),
    reward: pq.double(),
    group_id: pq.string(),
    rollout_id: pq.string(),
    sample_id: pq.string(),
  },
  rows,
});
