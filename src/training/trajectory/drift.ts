import { stableStringify, type AssistantMessage, type Message, type ModelCall } from '../../core/index.ts';
import type { DriftCause, TokenDecoder } from './types.ts';

export function commonPrefixLength(a: readonly number[], b: readonly number[]): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

/** Reasoning the model produced and the scaffold still sends (dropped reasoning is kept but flagged). */
function carriesReasoning(message: AssistantMessage): boolean {
  if (message.reasoningDropped || !message.reasoning) return false;
  const { text, signatures, details } = message.reasoning;
  return text.length > 0 || (signatures?.length ?? 0) > 0 || details !== undefined;
}

function sameMessage(a: Message, b: Message): boolean {
  return a === b || stableStringify(a) === stableStringify(b);
}

export interface DriftInput {
  /** The call whose sequence the new call should have extended (it has a response). */
  parent: ModelCall;
  call: ModelCall;
  /** The segment's tokens up to the end of the parent's completion. */
  sequence: readonly number[];
  promptIds: readonly number[];
  /** Where the parent's sampled tokens start in `sequence`. */
  parentCompletionStart: number;
  decode?: TokenDecoder | undefined;
}

export interface DriftFinding {
  cause: DriftCause;
  position: number;
  messageIndex: number | null;
  detail: string;
}

/**
 * Why `call`'s prompt ids do not extend `sequence`. Messages are compared first (what the scaffold
 * sent), then tokens (how it was rendered): a resent assistant turn without its reasoning is
 * `dropped_reasoning`; unchanged messages with ids that diverge before the previous completion are
 * a `template_rerender` of the history; a divergence inside the previous completion needs text to
 * tell a re-render (the text differs) from a `tokenizer_mismatch` (same text, other ids).
 */
export function classifyDrift(input: DriftInput): DriftFinding {
  const { parent, call, sequence, promptIds } = input;
  const position = commonPrefixLength(sequence, promptIds);
  const expected: Message[] = [...parent.request.messages, ...(parent.response ? [parent.response.message] : [])];
  const actual = call.request.messages;
  for (let i = 0; i < expected.length; i++) {
    const want = expected[i] as Message;
    const got = actual[i];
    if (got === undefined) {
      return { cause: 'unknown', position, messageIndex: i, detail: `the request holds ${actual.length} messages, fewer than the ${expected.length} the previous call saw and produced (history was cut)` };
    }
    if (sameMessage(want, got)) continue;
    if (want.role === 'assistant' && got.role === 'assistant' && carriesReasoning(want) && !carriesReasoning(got)) {
      return { cause: 'dropped_reasoning', position, messageIndex: i, detail: `assistant message ${i} was resent without its reasoning` };
    }
    return { cause: 'unknown', position, messageIndex: i, detail: `message ${i} (${got.role}) differs from what the previous call saw or produced` };
  }
  if (position < input.parentCompletionStart) {
    return { cause: 'template_rerender', position, messageIndex: null, detail: `messages unchanged, but the history re-rendered to other tokens at token ${position}, before the previous completion` };
  }
  if (!input.decode) {
    return {
      cause: 'unknown',
      position,
      messageIndex: null,
      detail: `messages unchanged; the ids diverge at token ${position}, inside the previous completion (give a tokenizer to tell a template re-render from a tokenizer mismatch)`,
    };
  }
  let before: string;
  let after: string;
  try {
    before = input.decode(sequence);
    after = input.decode(promptIds);
  } catch (error) {
    // Ids the tokenizer given does not have: it is not the engine's, and the text cannot be compared.
    return { cause: 'unknown', position, messageIndex: null, detail: `messages unchanged; the ids diverge at token ${position}, and the tokenizer given cannot decode them (${error instanceof Error ? error.message : String(error)})` };
  }
  if (after.startsWith(before)) {
    return { cause: 'tokenizer_mismatch', position, messageIndex: null, detail: `same text, different ids from token ${position}` };
  }
  const at = commonPrefixLength([...before].map((c) => c.codePointAt(0) ?? 0), [...after].map((c) => c.codePointAt(0) ?? 0));
  const excerpt = (text: string) => JSON.stringify([...text].slice(at, at + 24).join(''));
  return { cause: 'template_rerender', position, messageIndex: null, detail: `the text differs at token ${position}: ${excerpt(before)} became ${excerpt(after)}` };
}
