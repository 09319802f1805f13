import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { JsonObject, ToolInvocation } from '../../core/index.ts';
import { rowsOf } from '../state.ts';
import { mailTasks } from './index.ts';
import { mentions } from './match.ts';
import { episode, signal } from './test-support.ts';

/** Runs `steps` on a fresh episode of the task and returns the verdict with `answer`. */
async function verdict(taskId: string, steps: ToolInvocation[], answer: string | null = null): Promise<{ passed: boolean; failed: string[] }> {
  const task = mailTasks().find((t) => t.id === taskId);
  assert.ok(task, `no task ${taskId}`);
  const env = await episode(task, 3);
  try {
    for (const s of steps) {
      const out = await env.call(s.tool, s.arguments, { signal });
      assert.ok(out.ok, `${s.tool}: ${out.ok ? '' : out.error}`);
    }
    const outcome = await env.verify({ answer });
    return { passed: outcome.passed, failed: outcome.checks.filter((c) => !c.passed).map((c) => c.name) };
  } finally {
    await env.close();
  }
}

const call = (tool: string, args: JsonObject): ToolInvocation => ({ tool, arguments: args });

describe('mail checks', () => {
  it('matches keywords as whole tokens, with alternatives, ignoring case and dash style', () => {
    assert.ok(mentions('Launch is on June 2, 2026', 'june 2|2 june'));
    assert.ok(!mentions('Launch is on June 21', 'june 2'));
    assert.ok(!mentions('You have 14 alerts', '4'));
    assert.ok(mentions('Refund: €86.40.', '86.40|86,40'));
    assert.ok(mentions('password is CORAL–LEDGER–42', 'coral-ledger-42'));
  });

  it('accepts a forward made by pasting the original into a new message', async () => {
    const task = mailTasks().find((t) => t.id === 'mail/forward-unpaid-invoice')!;
    const env = await episode(task, 3);
    const original = rowsOf(await env.snapshot(), 'messages').find((m) => m.id === 'msg_1510')!;
    await env.close();
    const result = await verdict('mail/forward-unpaid-invoice', [
      call('send_message', { to: ['accounts@northwind.example'], subject: 'Brightline invoice', body: `Approved, please pay.\n\n${String(original.body)}` }),
    ]);
    assert.deepEqual(result, { passed: true, failed: [] });
  });

  it('does not let keywords inside the forwarded text stand in for the note', async () => {
    const result = await verdict('mail/forward-nda-to-legal', [
      call('forward', { messageId: 'msg_2203', to: ['legal@northwind.example'], cc: ['tove.amundsen@northwind.example'], note: 'Signed NDA attached.' }),
    ]);
    assert.deepEqual(result.failed, ['forwarded the signed NDA']);
  });

  it('accepts an unthreaded reply with the same subject to the sender', async () => {
    const result = await verdict('mail/reply-boiler-visit', [
      call('send_message', { to: ['gemma.okafor@harbourlets.example'], subject: 'Re: Boiler service visit', body: 'Hi Gemma, Friday at 14:00 is good for me.' }),
    ]);
    assert.deepEqual(result, { passed: true, failed: [] });
  });

  it('fails an email to the wrong Priya', async () => {
    const result = await verdict('mail/email-the-right-priya', [
      call('send_message', { to: ['priya@rameshprint.example'], subject: 'Design review', body: 'Can we move it to Friday?' }),
    ]);
    assert.deepEqual(result.failed, ['emailed Priya Raman', 'no_other_sent']);
  });

  it('judges answers on the final fact, not on stale ones', async () => {
    const submit = (answer: string) => [call('submit', { answer })];
    assert.equal((await verdict('mail/kestrel-launch-date', submit('June 2nd'), 'June 2nd')).passed, true);
    assert.equal((await verdict('mail/kestrel-launch-date', submit('2 June, after moving from 19 May'), '2 June, after moving from 19 May')).passed, false);
    assert.equal((await verdict('mail/kestrel-launch-date', submit('June 21'), 'June 21')).passed, false);
  });

  it('fails forwarding the original invoice instead of the corrected one', async () => {
    const result = await verdict('mail/forward-corrected-invoice', [call('forward', { messageId: 'msg_1701', to: ['accounts@northwind.example'] })]);
    assert.deepEqual(result.failed, ['forwarded the corrected invoice']);
  });

  it("catches one customer's order number in another customer's reply", async () => {
    const task = mailTasks().find((t) => t.id === 'mail/reply-order-enquiries-juniper-lane')!;
    // The golden replies, but the first two customers get each other's order numbers.
    const replies = task.golden.steps.filter((s) => s.tool === 'reply');
    const body = (s: ToolInvocation) => String(s.arguments.body);
    const swapped = replies.map((s, i) => (i > 1 ? s : call('reply', { ...s.arguments, body: body(replies[1 - i]!).replace(/^Hi \w+/, 'Hi') })));
    const result = await verdict(task.id, swapped);
    assert.equal(result.passed, false);
    assert.equal(result.failed.length, 2, result.failed.join(', '));
  });
});
