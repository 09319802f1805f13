import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { VerifyContext } from '../define.ts';
import { userChecks } from './checks.ts';
import { actionGate, isConfirmation, mentionsWord, type LogEntry } from './conversation.ts';
import { detectSimulatorFault } from './monitor.ts';
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
