// Catches a simulator that broke its instructions, so the rollout is excluded as the simulator's
// fault instead of scored against the agent: a fact revealed before the agent asked (or a secret
// revealed at all), a stated value that contradicts the instructions, a conversation ended while
// the agent was still asking for what it needs. Also: when a conversation the agent has finished
// is over, whatever the simulator says.
import { asksFor, isReport, isStop, mentionsWord, missingRequired, refuses, type LogEntry } from './conversation.ts';
import type { UserScenario } from './scenario.ts';
import { MAX_REPLIES_AFTER_REPORT } from './simulator.ts';

export type SimulatorFaultKind = 'leaked_fact' | 'contradiction' | 'ended_early';

export interface SimulatorFault {
  kind: SimulatorFaultKind;
  /** The fact concerned, when there is one. */
  fact?: string;
  message: string;
}

export interface MonitorInput {
  scenario: UserScenario;
  /** The conversation before this exchange. */
  log: readonly LogEntry[];
  /** The agent's message the simulator answered. */
  message: string;
  reply: string;
}

function excerpt(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  if (flat.length <= 160) return flat;
  // Never half of a surrogate pair: the message would carry a character that is not text.
  return `${flat.slice(0, /[\uD800-\uDBFF]/.test(flat[156]!) ? 156 : 157)}…`;
}

/**
 * The user's replies that kept the conversation going after the agent reported back, counted since
 * the agent last changed anything: a change is new work, which the user may well answer again.
 */
export function repliesAfterReport(log: readonly LogEntry[]): number {
  let count = 0;
  let reported = false;
  for (const entry of log) {
    if (entry.kind === 'action') count = 0;
    else if (entry.kind === 'agent') reported = isReport(entry.text);
    else if (reported && !isStop(entry.text)) count++;
  }
  return count;
}

/**
 * The first way the simulator's reply breaks its scenario, or null when it is sound. A fault is
 * an exclusion, so what the agent provoked is none: a value the agent itself named (a secret it
 * guessed, a wrong value the user turns down) is an echo, and a stop is only early while the agent
 * is asking for a required fact still unstated, without having written the stop marker itself.
 */
export function detectSimulatorFault(input: MonitorInput): SimulatorFault | null {
  const { scenario, log, message, reply } = input;
  const agentSaid = [...log.filter((e) => e.kind === 'agent').map((e) => e.text), message];
  const agentNamed = (word: string): boolean => agentSaid.some((text) => mentionsWord(text, word));
  for (const fact of scenario.facts) {
    if (!mentionsWord(reply, fact.value)) continue;
    if (fact.reveal === 'never') {
      if (agentNamed(fact.value)) continue;
      return { kind: 'leaked_fact', fact: fact.id, message: `the user simulator revealed the private fact "${fact.id}" it must never share: "${excerpt(reply)}"` };
    }
    if (!agentSaid.some((text) => asksFor(fact, text))) {
      return { kind: 'leaked_fact', fact: fact.id, message: `the user simulator revealed "${fact.id}" before the agent asked for it: "${excerpt(reply)}"` };
    }
  }
  for (const fact of scenario.facts) {
    const current = [fact.value, ...(fact.revision ? [fact.revision.value] : [])];
    if (current.some((v) => mentionsWord(reply, v))) continue;
    // "No, not Monday" to an agent that proposed Monday turns it down; "Monday is fine" takes it.
    const wrong = fact.contradicts.find((c) => mentionsWord(reply, c) && !(agentNamed(c) && refuses(reply)));
    if (wrong !== undefined) {
      return { kind: 'contradiction', fact: fact.id, message: `the user simulator stated "${wrong}" for "${fact.id}", contradicting its instructions ("${fact.value}"): "${excerpt(reply)}"` };
    }
  }
  if (isStop(reply) && !isReport(message) && !isStop(message)) {
    // The reply's own words count: "Thursday. ###STOP###" has stated the day.
    const after = [...log, { seq: Number.MAX_SAFE_INTEGER, kind: 'user' as const, via: 'monitor', text: reply }];
    const askedFor = missingRequired(scenario, after).filter((id) => asksFor(scenario.facts.find((f) => f.id === id)!, message));
    if (askedFor.length > 0) {
      return { kind: 'ended_early', message: `the user simulator ended the conversation while the agent was asking, before stating ${askedFor.map((m) => `"${m}"`).join(', ')}` };
    }
  }
  return null;
}

/**
 * Whether `reply` comes past the replies a user may give to the agent's reports (since it last
 * changed anything) without stopping: the conversation is then over. An LLM user that will not say
 * goodbye would otherwise run the agent into its turn limit, and calling it the simulator's fault
 * would exclude the rollout, which flatters an agent whose reports keep drawing objections: an
 * agent that claims work it never did. Closed, the world is judged as the agent left it.
 */
export function closesConversation(input: Pick<MonitorInput, 'log' | 'message' | 'reply'> & { maxRepliesAfterReport?: number }): boolean {
  const { log, message, reply } = input;
  if (isStop(reply) || !isReport(message)) return false;
  return repliesAfterReport(log) + 1 > (input.maxRepliesAfterReport ?? MAX_REPLIES_AFTER_REPORT);
}
