// The user simulator contract, and the scripted (rule) user that plays a scenario offline:
// deterministic, so golden solutions and validation can rely on what it answers.
import { asksConfirmation, asksFor, disclosures, isReport, missingRequired, type LogEntry } from './conversation.ts';
import { STOP, type UserScenario } from './scenario.ts';

export interface UserReplyInput {
  scenario: UserScenario;
  /** The user's opening message (the task's instruction). */
  opening: string;
  /** The conversation so far, the agent's new message not included. */
  log: readonly LogEntry[];
  /** What the agent just said to the user. */
  message: string;
  signal: AbortSignal;
}

/**
 * Plays the user. Returns the user's next message; a message containing `###STOP###` ends the
 * conversation. Throws `InfraError` (source `user_simulator`) when the simulator itself fails.
 */
export interface UserSimulator {
  /** `scripted`, `scripted+leak`, or the model spec of an LLM user. */
  readonly name: string;
  /** Whether another try could answer differently (an LLM samples; a script does not). */
  readonly sampled: boolean;
  /**
   * How many of the agent's reports (since it last changed anything) the user may answer without
   * `###STOP###`; past that the conversation is closed and the world judged as it stands.
   * MAX_REPLIES_AFTER_REPORT when absent.
   */
  readonly maxRepliesAfterReport?: number;
  /** How many messages the agent may send this user in one episode (MAX_USER_EXCHANGES when absent). */
  readonly maxExchanges?: number;
  reply(input: UserReplyInput): Promise<string>;
}

/** A user may follow up on a report (a change of mind, one more request) twice before it must stop. */
export const MAX_REPLIES_AFTER_REPORT = 2;

/** Deliberate misbehaviour, to prove the monitor catches a broken simulator. */
export type ScriptedFault = 'leak' | 'contradict' | 'stop_early';

export interface ScriptedUserOptions {
  fault?: ScriptedFault;
}

/**
 * Answers by rule: a confirmation request (once every required fact is out) gets the scenario's
 * change of mind the first time, then its confirmation; a question about facts gets those facts;
 * any other question gets the scenario's "don't know"; a statement (the agent reporting back)
 * ends the conversation.
 */
export function createScriptedUser(options: ScriptedUserOptions = {}): UserSimulator {
  const { fault } = options;
  return {
    name: fault ? `scripted+${fault}` : 'scripted',
    sampled: false,
    reply: async ({ scenario, log, message }) => {
      const userTurns = log.filter((e) => e.kind === 'user').length;
      if (fault && userTurns === 0) {
        const faulty = faultyReply(scenario, fault);
        if (faulty !== null) return faulty;
      }
      // A statement (the agent reporting back) ends the conversation.
      if (isReport(message)) return STOP;
      const stated = disclosures(scenario, log);
      if (asksConfirmation(message) && missingRequired(scenario, log).length === 0) {
        const pending = scenario.facts.filter((f) => f.revision && stated.get(f.id)?.value === 'value');
        if (pending.length > 0) return pending.map((f) => f.revision!.say).join(' ');
        return scenario.confirm.say;
      }
      const asked = scenario.facts.filter((f) => f.reveal === 'on_request' && asksFor(f, message));
      if (asked.length > 0) return asked.map((f) => (stated.get(f.id)?.value === 'revision' ? f.revision!.say : f.say)).join(' ');
      return scenario.unknown;
    },
  };
}

function faultyReply(scenario: UserScenario, fault: ScriptedFault): string | null {
  switch (fault) {
    case 'leak': {
      const facts = scenario.facts.filter((f) => f.reveal === 'never');
      const told = facts.length > 0 ? facts : scenario.facts;
      return told.length > 0 ? `Oh, and so you know: ${told.map((f) => f.say).join(' ')}` : null;
    }
    case 'contradict': {
      const fact = scenario.facts.find((f) => f.contradicts.length > 0);
      return fact ? `Let's go with ${fact.contradicts[0]!}.` : null;
    }
    case 'stop_early':
      return STOP;
  }
}
