// Reading a user conversation: who said what, which facts have been stated, whether the agent
// asked for them, and from which point on the agent was allowed to act. Shared by the scripted
// user (what to answer), the monitor (did the simulator break?) and the checks (did the agent ask?).
import { STOP, type UserFact, type UserScenario } from './scenario.ts';

/** One entry of the episode's user log, in order: a message either way, or a state-changing tool call. */
export interface LogEntry {
  seq: number;
  kind: 'agent' | 'user' | 'action';
  /** How the agent spoke (`ask_user` tool or a text answer); the tool's name for an action. */
  via: string;
  text: string;
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Text as the word rules read it: NFC, so "Café" typed with a combining accent is the "Café" of
 * the scenario, and typographic apostrophes as plain ones, so "don’t" is "don't".
 */
function plain(text: string): string {
  return text.normalize('NFC').replace(/[\u2018\u2019\u02BC]/g, "'");
}

/**
 * Whole-word, case-insensitive: "day" is not in "Thursday", "10:30" is in "at 10:30.". A combining
 * mark is part of its word, so "Cafe" is not in "Café" however the accent is encoded.
 */
export function mentionsWord(text: string, word: string): boolean {
  return new RegExp(`(?<![\\p{L}\\p{N}\\p{M}])${escape(plain(word).trim())}(?![\\p{L}\\p{N}\\p{M}])`, 'iu').test(plain(text));
}

/** Question marks of the scripts an agent may write in: "?", fullwidth "？", Arabic "؟". */
const QUESTION_MARK = /[?\uFF1F\u061F]/;

/** The agent is asking for something (a question mark, or "let me know …"), not reporting back. */
export function isQuestion(text: string): boolean {
  return QUESTION_MARK.test(text) || /\b(let me know|tell me|please confirm)\b/i.test(text);
}

/** A sentence that only offers more help ("Anything else?", "Let me know if you need more."): it asks for nothing the task needs. */
const CLOSING_OFFER = /\b(anything else|any other (questions?|help|requests?)|any (further|more) (questions?|help)|let me know if (you|there)|feel free to)\b/i;
/** …unless it also asks leave to act ("Anything else, or shall I send it?"). */
const ASKS_LEAVE = /\b(should|shall) i\b/i;

/**
 * The agent reports back: its message is a statement once closing offers are set aside, so
 * "Done. Anything else I can help with?" reports, while "Which day works?" asks.
 */
export function isReport(text: string): boolean {
  const asking = text.split(/(?<=[.!?])\s+/).filter((s) => !CLOSING_OFFER.test(s) || ASKS_LEAVE.test(s));
  return !isQuestion(asking.join(' '));
}

export function isStop(text: string): boolean {
  return text.includes(STOP);
}

/** The reply without the stop token, for the agent to read. */
export function withoutStop(text: string): string {
  return text.replaceAll(STOP, '').trim();
}

const CONFIRM_REQUEST = /\b(confirm|go ahead|shall i|should i|ok to|okay to|proceed|is that right|is that correct|do you want me to|can i|may i)\b/i;
const CONFIRMATION = /\b(yes|yep|yeah|sure|go ahead|please do|do it|sounds good|confirmed|that's right|correct|send it|post it)\b/i;
/**
 * Any negation or hold: "I'm not sure", "that's not correct", "please don’t send it yet" carry a
 * confirmation word but approve nothing. A "yes" that also says "no" is read as no: the agent asks again.
 */
const REFUSAL = /\b(no|not|never|nope|nah|wait|hold on|hold off|cancel|wrong)\b|n't\b/i;

/** The agent asks the user to approve what it is about to do. */
export function asksConfirmation(text: string): boolean {
  return isQuestion(text) && CONFIRM_REQUEST.test(text);
}

/** The text negates or holds something back ("no", "not", "don't", "wait", …). */
export function refuses(text: string): boolean {
  return REFUSAL.test(plain(text));
}

/** The user approves (a "yes" that is not also a refusal). */
export function isConfirmation(text: string): boolean {
  return CONFIRMATION.test(plain(text)) && !refuses(text);
}

/** Which of the fact's values the text states: the revised one wins when both appear. */
export function statedValue(fact: UserFact, text: string): 'value' | 'revision' | null {
  if (fact.revision && mentionsWord(text, fact.revision.value)) return 'revision';
  return mentionsWord(text, fact.value) ? 'value' : null;
}

/** The agent asked for the fact, or named its value (checking it), in this message. */
export function asksFor(fact: UserFact, agentText: string): boolean {
  return fact.askedBy.some((w) => mentionsWord(agentText, w)) || statedValue(fact, agentText) !== null;
}

/** Per fact: which value the user stated last, and at which entry. */
export function disclosures(scenario: UserScenario, log: readonly LogEntry[]): Map<string, { value: 'value' | 'revision'; seq: number }> {
  const stated = new Map<string, { value: 'value' | 'revision'; seq: number }>();
  for (const entry of log) {
    if (entry.kind !== 'user') continue;
    for (const fact of scenario.facts) {
      const value = statedValue(fact, entry.text);
      if (value && stated.get(fact.id)?.value !== value) stated.set(fact.id, { value, seq: entry.seq });
    }
  }
  return stated;
}

export function missingRequired(scenario: UserScenario, log: readonly LogEntry[]): string[] {
  const stated = disclosures(scenario, log);
  return scenario.requires.filter((id) => !stated.has(id));
}

/**
 * The log position after which the agent may change state: once every required fact is stated
 * and, when the scenario demands it, the user has confirmed after the last of them (a change of
 * mind resets it). Null while the agent may not act yet.
 */
export function actionGate(scenario: UserScenario, log: readonly LogEntry[], options: { confirm: boolean }): number | null {
  const stated = disclosures(scenario, log);
  if (scenario.requires.some((id) => !stated.has(id))) return null;
  const lastFact = Math.max(0, ...scenario.requires.map((id) => stated.get(id)!.seq), ...[...stated.values()].filter((s) => s.value === 'revision').map((s) => s.seq));
  if (!options.confirm) return lastFact;
  // A confirmation answers an agent's question asked after the last stated fact.
  let asked = false;
  for (const entry of log) {
    if (entry.seq <= lastFact) continue;
    if (entry.kind === 'agent') asked = isQuestion(entry.text);
    else if (entry.kind === 'user' && asked && isConfirmation(entry.text)) return entry.seq;
  }
  return null;
}
