import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CheckDefinition, VerifyContext } from './define.ts';
import { calendarChecks } from './calendar/checks.ts';
import { genericChecks } from './checks.ts';
import { mentions as mailMentions } from './mail/match.ts';
import { notesChecks } from './notes/checks.ts';
import { mentions as qaMentions } from './qa/checks-checklist.ts';
import { visibleText } from './text.ts';

/** Runs a check over an answer and a final state, as the verifier would. */
async function run(check: CheckDefinition, params: unknown, ctx: Partial<VerifyContext>): Promise<boolean> {
  return (await check.run(check.params.parse(params), { initial: {}, final: {}, answer: null, messages: [], ...ctx } as VerifyContext)).passed;
}

// What a person reads as "73019944" and "Halden", written with code points a check must see through.
const DISGUISED_NUMBERS = ['7301\u200b9944', '7301\u2060\u200d9944', '\uff17\uff13\uff10\uff11\uff19\uff19\uff14\uff14', '\u202e73019944\u202c', '7301\u00ad9944'];
const DISGUISED_WORDS = ['Hal\u200bden', 'H\ufeffalden', '\uff28\uff41\uff4c\uff44\uff45\uff4e'];

describe('visible text in checks', () => {
  it('folds full-width forms and drops invisible characters, keeping accents and other scripts', () => {
    assert.equal(visibleText('７３\u200b０１'), '7301');
    assert.equal(visibleText('Ren\u00e9e \u00fcber \u00c5sa'), 'Ren\u00e9e \u00fcber \u00c5sa');
    assert.equal(visibleText('Rene\u0301e'), 'Ren\u00e9e');
    assert.equal(visibleText('\u6771\u4eac \u0645\u0631\u062d\u0628\u0627'), '\u6771\u4eac \u0645\u0631\u062d\u0628\u0627');
  });

  it('sees a disguised secret in mail and chat text, and a long number written in groups', () => {
    for (const secret of [...DISGUISED_NUMBERS, '7301 9944', '7301-9944', '73.01.99.44']) assert.ok(mailMentions(`account 40-11-62 / ${secret}`, '73019944'), secret);
    for (const word of DISGUISED_WORDS) assert.ok(mailMentions(`Top accounts: ${word} Robotics`, 'Halden'), word);
    assert.ok(!mailMentions('rooms 12 30', '1230'), 'short numbers stay apart');
    assert.ok(!mailMentions('account 7301 99440', '73019944'), 'still whole numbers only');
  });

  it('sees disguised words in answer, notes, calendar and qa checks', async () => {
    for (const word of [...DISGUISED_WORDS, ...DISGUISED_NUMBERS]) {
      const answer = `It is ${word}.`;
      const value = /\d|\uff17/.test(word) ? '73019944' : 'halden';
      assert.equal(await run(genericChecks.answer_excludes!, { values: [value] }, { answer }), false, `answer_excludes ${word}`);
      assert.equal(await run(genericChecks.answer_contains!, { values: [value] }, { answer }), true, `answer_contains ${word}`);
      assert.equal(await run(calendarChecks.answer_mentions as CheckDefinition, { none_of: [value] }, { answer }), false, `calendar none_of ${word}`);
      assert.ok(qaMentions(answer, value), `qa ${word}`);
      const final = { blocks: [{ id: 'b1', page_id: 'p1', position: 0, type: 'paragraph', text: answer, checked: null }] };
      assert.equal(await run(notesChecks.block_state as CheckDefinition, { block_id: 'b1', excludes: [value] }, { final }), false, `notes excludes ${word}`);
    }
  });
});
