import type { Task } from '../../core/index.ts';
import type { VerifyContext } from '../define.ts';

/** What the checks grade: the model's answer to each user turn, and everything it wrote. */
export interface Transcript {
  /** The answer to user turn i (1-based) at index i − 1; null when the turn got no answer. */
  turns: (string | null)[];
  /** Every assistant message with text, in order (the turn answers when there is no transcript). */
  assistantTexts: string[];
  /** The answer the episode ended with. */
  final: string | null;
  toolCalls: number;
  /** Where the turns came from. */
  source: 'transcript' | 'recorded' | 'replay';
}

/** The follow-up user turns of a qa task (`initialState.followUps`), after the instruction. */
export function followUpsOf(task: Task): string[] {
  const raw = task.initialState.followUps;
  return Array.isArray(raw) ? raw.filter((f): f is string => typeof f === 'string') : [];
}

function fromMessages(ctx: VerifyContext): Transcript {
  const turns: (string | null)[] = [];
  const assistantTexts: string[] = [];
  let toolCalls = 0;
  for (const message of ctx.messages) {
    if (message.role === 'user') turns.push(null);
    if (message.role !== 'assistant') continue;
    toolCalls += message.toolCalls.length;
    if (message.content.trim() !== '') assistantTexts.push(message.content);
    // A message that calls tools is work in progress; the turn's answer is the reply without calls.
    if (message.toolCalls.length === 0 && turns.length > 0) turns[turns.length - 1] = message.content;
  }
  return { turns, assistantTexts, final: ctx.answer, toolCalls, source: 'transcript' };
}

/**
 * The turns of an episode: from the transcript when the verifier has one (every rollout, and
 * direct golden replays), else from the answers the `followUp` hook recorded, else the final
 * answer alone.
 */
export function transcriptOf(ctx: VerifyContext): Transcript {
  if (ctx.messages.some((m) => m.role === 'assistant')) return fromMessages(ctx);
  const recorded = ctx.db.prepare('SELECT turn, text FROM answers ORDER BY turn').all() as { turn: number; text: string }[];
  if (recorded.length > 0) {
    const turns: (string | null)[] = [];
    for (const { turn, text } of recorded) turns[turn - 1] = text;
    const filled = Array.from(turns, (t) => t ?? null);
    const final = ctx.answer ?? filled.at(-1) ?? null;
    return { turns: filled, assistantTexts: filled.filter((t): t is string => t !== null), final, toolCalls: 0, source: 'recorded' };
  }
  const turns = ctx.answer === null ? [] : [ctx.answer];
  return { turns, assistantTexts: turns, final: ctx.answer, toolCalls: 0, source: 'replay' };
}

export type Scope = 'final' | 'every_assistant_message' | 'any_assistant_message';

/** The texts a scoped check looks at, and whether all or one of them must satisfy it. */
export function scopedTexts(transcript: Transcript, scope: Scope): { texts: string[]; need: 'all' | 'any' } {
  if (scope === 'final') return { texts: transcript.final === null ? [] : [transcript.final], need: 'all' };
  return { texts: transcript.assistantTexts, need: scope === 'every_assistant_message' ? 'all' : 'any' };
}

export function quote(text: string, max = 80): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return JSON.stringify(flat.length > max ? `${flat.slice(0, max - 1)}…` : flat);
}
