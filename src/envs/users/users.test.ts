import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { VerifyContext } from '../define.ts';
import { userChecks } from './checks.ts';
import { actionGate, isConfirmation, isReport, mentionsWord, type LogEntry } from './conversation.ts';
import { closesConversation, detectSimulatorFault, repliesAfterReport } from './monitor.ts';
import { STOP, UserScenario } from './scenario.ts';
import { createScriptedUser } from './simulator.ts';

const scenario = UserScenario.parse({
  persona: 'Robin, brief',
  goal: 'Tell Priya which day works',
  facts: [
    { id: 'day', value: 'Thursday', say: 'Thursday works.', askedBy: ['day', 'when'], contradicts: ['Monday'], revision: { value: 'Friday', say: 'Actually, make it Friday.' } },
    { id: 'secret', value: 'reorg', say: 'A reorg is coming.', askedBy: ['secret'], reveal: 'never' },
  ],
  requires: ['day'],
});

function log(...entries: [LogEntry['kind'], string][]): LogEntry[] {
  return entries.map(([kind, text], i) => ({ seq: i + 1, kind, via: kind === 'action' ? 'send_direct_message' : 'ask_user', text }));
}

const signal = new AbortController().signal;
const ask = (message: string, entries: LogEntry[] = []) => createScriptedUser().reply({ scenario, opening: 'Tell Priya a day.', log: entries, message, signal });

describe('conversation', () => {
  it('matches whole words only, so "day" is not found in "Thursday" but "10:30" is in "at 10:30."', () => {
    assert.equal(mentionsWord('See you Thursday', 'day'), false);
    assert.equal(mentionsWord('Which day?', 'day'), true);
    assert.equal(mentionsWord('We start at 10:30.', '10:30'), true);
    assert.equal(mentionsWord('Post in #fire-wardens now', 'fire-wardens'), true);
  });

  it('tells a confirmation from a refusal', () => {
    assert.equal(isConfirmation('Yes, go ahead.'), true);
    assert.equal(isConfirmation('No, wait — not yet.'), false);
  });

  it('tells a report from a question, setting closing offers aside', () => {
    assert.equal(isReport('Done: I told Priya Friday.'), true);
    assert.equal(isReport('Done. Anything else I can help with?'), true);
    assert.equal(isReport('I sent it. Let me know if you need anything else.'), true);
    assert.equal(isReport('Which day works?'), false);
    assert.equal(isReport('Let me know which day works.'), false);
    assert.equal(isReport('Thursday or Friday? Anything else I should know?'), false);
    assert.equal(isReport('Anything else, or shall I send it now?'), false);
  });

  it('opens the gate only after the required fact and a later confirmation; a change of mind closes it again', () => {
    const asked = log(['agent', 'Which day?'], ['user', 'Thursday works.']);
    assert.equal(actionGate(scenario, asked, { confirm: false }), 2);
    assert.equal(actionGate(scenario, asked, { confirm: true }), null);
    const confirmed = [...asked, ...log(['agent', 'Thursday then, shall I send?'], ['user', 'Yes, go ahead.'])].map((e, i) => ({ ...e, seq: i + 1 }));
    assert.equal(actionGate(scenario, confirmed, { confirm: true }), 4);
    const revised = [...asked, ...log(['agent', 'Thursday then, shall I send?'], ['user', 'Actually, make it Friday.'])].map((e, i) => ({ ...e, seq: i + 1 }));
    assert.equal(actionGate(scenario, revised, { confirm: true }), null);
  });
});

describe('scripted user', () => {
  it('answers what was asked, changes its mind at the first confirmation, then confirms, and stops when told it is done', async () => {
    assert.equal(await ask('Which day should I tell Priya?'), 'Thursday works.');
    const afterDay = log(['agent', 'Which day should I tell Priya?'], ['user', 'Thursday works.']);
    assert.equal(await ask('Thursday it is. Shall I send it?', afterDay), 'Actually, make it Friday.');
    const afterRevision = [...afterDay, ...log(['agent', 'Shall I send it?'], ['user', 'Actually, make it Friday.'])].map((e, i) => ({ ...e, seq: i + 1 }));
    assert.equal(await ask('Friday then. Shall I send it?', afterRevision), 'Yes, go ahead.');
    assert.equal(await ask('What is your favourite colour?'), scenario.unknown);
    assert.equal(await ask('Done: I told Priya Friday.'), STOP);
    assert.equal(await ask('Done: I told Priya Friday. Anything else I can help with?'), STOP);
  });

  it('never gives a secret, even when asked for it by name', async () => {
    const reply = await ask('Is there a secret I should know?');
    assert.equal(mentionsWord(reply, 'reorg'), false);
  });
});

describe('simulator monitor', () => {
  const check = (reply: string, message = 'Which day works?', entries: LogEntry[] = []) => detectSimulatorFault({ scenario, log: entries, message, reply });

  it('accepts a sound reply', () => {
    assert.equal(check('Thursday works.'), null);
  });

  it('reports a secret revealed at any time', () => {
    assert.deepEqual({ ...check('Thursday, and between us there is a reorg.'), message: '' }, { kind: 'leaked_fact', fact: 'secret', message: '' });
  });

  it('reports a fact given before the agent asked for it', () => {
    const fault = check('Thursday works.', 'Hello! I am getting started on your request.');
    assert.equal(fault?.kind, 'leaked_fact');
    assert.equal(fault?.fact, 'day');
  });

  it('does not call it a leak when the agent named the value to check it', () => {
    assert.equal(check('Yes, Thursday.', 'Is it Thursday you had in mind?'), null);
  });

  it('reports a value that contradicts the instructions', () => {
    const fault = check("Let's do Monday.");
    assert.equal(fault?.kind, 'contradiction');
    assert.match(fault?.message ?? '', /"Monday" for "day"/);
  });

  it('reports a stop while the agent is still asking for a required fact, but not after the agent reports back', () => {
    assert.equal(check(STOP)?.kind, 'ended_early');
    const told = log(['agent', 'Which day?'], ['user', 'Thursday works.']);
    assert.equal(check(STOP, 'Done, I told Priya.', told), null);
  });

  describe('a user that will not stop', () => {
    const seq = (entries: LogEntry[]) => entries.map((e, i) => ({ ...e, seq: i + 1 }));
    const asked = log(['agent', 'Which day?'], ['user', 'Thursday works.'], ['action', '{}']);
    const chatted = seq([...asked, ...log(['agent', 'Done: I told Priya Thursday.'], ['user', 'Thanks!'], ['agent', "You're welcome. Anything else I can help with?"], ['user', 'No, that is all.'])]);

    it('counts the replies to reports since the agent last changed anything; replies to questions do not count', () => {
      assert.equal(repliesAfterReport(asked), 0);
      assert.equal(repliesAfterReport(chatted), 2);
      assert.equal(repliesAfterReport(seq([...chatted, ...log(['action', '{}'])])), 0);
      assert.equal(repliesAfterReport(seq([...chatted, ...log(['agent', 'Shall I tell Priya more?'], ['user', 'No.'])])), 2);
    });

    it('lets the user answer two reports, and closes the conversation at the third answer without a stop', () => {
      const closes = (reply: string, message: string, entries: LogEntry[], maxRepliesAfterReport?: number) =>
        closesConversation({ log: entries, message, reply, ...(maxRepliesAfterReport !== undefined ? { maxRepliesAfterReport } : {}) });
      assert.equal(closes('Bye!', 'Done: I told Priya Thursday.', seq([...asked, ...log(['agent', 'Done.'], ['user', 'Thanks!'])])), false);
      assert.equal(closes('You too!', 'Have a nice day.', chatted), true);
      assert.equal(check('You too!', 'Have a nice day.', chatted), null, 'a chatty user is no simulator fault: excluding the rollout would flatter the agent');
      assert.equal(closes(STOP, 'Have a nice day.', chatted), false, 'a stop ends it anyway');
      assert.equal(closes('Thursday, as I said.', 'Which day was it again?', chatted), false, 'answering a question is not chatter');
      assert.equal(closes('Thanks!', 'Done.', seq([...asked]), 0), true, 'a cap of its own');
      assert.equal(closes('Bye!', 'Bye.', chatted, 3), false);
    });
  });
});

describe('scenario schema', () => {
  it('refuses a required fact that does not exist, naming it', () => {
    const result = UserScenario.safeParse({ persona: 'p', goal: 'g', facts: [], requires: ['day'] });
    assert.equal(result.success, false);
    assert.match(JSON.stringify(result.error?.issues), /no fact \\"day\\"/);
  });
});

describe('told_user check', () => {
  const ctx = (entries: LogEntry[], answer: string | null) => ({ final: { user_log: entries }, answer, task: { initialState: {} } }) as unknown as VerifyContext;
  const run = (entries: LogEntry[], answer: string | null) => userChecks.told_user!.run({ contains: ['Friday|Fri', 'Priya'] }, ctx(entries, answer));

  it('passes when the agent told the user every keyword, in its messages or its final answer', async () => {
    assert.equal((await run(log(['agent', 'Shall I tell Priya?'], ['user', 'Yes.']), 'Told her Friday.')).passed, true);
  });

  it('fails naming what the user was never told; the user\'s own words do not count', async () => {
    const out = await run(log(['agent', 'Shall I send it?'], ['user', 'Yes, tell Priya Friday.']), 'Done.');
    assert.equal(out.passed, false);
    assert.match(out.detail ?? '', /never told the user Friday\|Fri, Priya/);
  });
});
