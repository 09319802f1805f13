// Helpers for the qa tests: a task from a few checks, a transcript from a few replies, a verdict.
import { Task, type Judge, type Message, type ToolCall, type VerifierOutcome } from '../../core/index.ts';
import { instantiate } from '../instance.ts';
import { qa, QA_SYSTEM_PROMPT } from './index.ts';

export interface TaskOptions {
  instruction?: string;
  systemPrompt?: string;
  followUps?: string[];
  golden?: { answer?: string; followUpAnswers?: string[] };
  labels?: string[];
}

export function qaTask(checks: Record<string, unknown>[], options: TaskOptions = {}): Task {
  return Task.parse({
    id: 'qa/test',
    env: 'qa',
    instruction: options.instruction ?? 'What is 6 × 7?',
    ...(options.systemPrompt ? { systemPrompt: options.systemPrompt } : {}),
    initialState: options.followUps ? { followUps: options.followUps } : {},
    verifier: { checks },
    golden: options.golden ?? { answer: '42' },
    tags: { domain: 'math', difficulty: 'easy', labels: options.labels ?? [] },
  });
}

/** An assistant reply: text, or text with tool calls. */
export type Reply = string | { content: string; toolCalls: string[] };

function toolCall(name: string, i: number): ToolCall {
  return { id: `call_${i}`, name, arguments: {}, argumentsText: '{}' };
}

/** The transcript of a conversation: the task's turns, each followed by the model's replies to it. */
export function chat(task: Task, repliesPerTurn: Reply[][]): Message[] {
  const followUps = Array.isArray(task.initialState.followUps) ? (task.initialState.followUps as string[]) : [];
  const questions = [task.instruction, ...followUps];
  const messages: Message[] = [{ role: 'system', content: task.systemPrompt ?? QA_SYSTEM_PROMPT }];
  let calls = 0;
  repliesPerTurn.forEach((replies, turn) => {
    messages.push({ role: 'user', content: questions[turn] ?? `turn ${turn + 1}` });
    for (const reply of replies) {
      if (typeof reply === 'string') messages.push({ role: 'assistant', content: reply, toolCalls: [] });
      else {
        messages.push({ role: 'assistant', content: reply.content, toolCalls: reply.toolCalls.map((name) => toolCall(name, calls++)) });
        for (const name of reply.toolCalls) messages.push({ role: 'tool', toolCallId: `call_${calls}`, name, content: 'unknown tool', isError: true });
      }
    }
  });
  return messages;
}

/** Verifies a task as the runner does after a rollout (or, with no messages, as a golden replay does). */
export async function grade(task: Task, options: { answer: string | null; messages?: Message[]; judge?: Judge }): Promise<VerifierOutcome> {
  const env = instantiate(qa, options.judge ? { judge: options.judge } : {});
  try {
    await env.reset(task, { seed: 1 });
    return await env.verify({ answer: options.answer, ...(options.messages ? { messages: options.messages } : {}) });
  } finally {
    await env.close();
  }
}

/** Grades a conversation where the final answer is the last reply. */
export async function gradeChat(task: Task, repliesPerTurn: Reply[][], judge?: Judge): Promise<VerifierOutcome> {
  const messages = chat(task, repliesPerTurn);
  const last = [...messages].reverse().find((m) => m.role === 'assistant');
  return grade(task, { answer: last && last.role === 'assistant' ? last.content : null, messages, ...(judge ? { judge } : {}) });
}

/** "name: passed" for each check, to assert on in one line. */
export function verdicts(outcome: VerifierOutcome): Record<string, boolean> {
  return Object.fromEntries(outcome.checks.map((c) => [c.name, c.passed]));
}
