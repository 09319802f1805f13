// Checks over the user log: the agent asked (and got confirmation) before it changed anything,
// and told the user what the task says it must (tau-bench's "communicate" outcome).
import { z } from 'zod';
import { defineCheck, type CheckDefinition, type VerifyContext } from '../define.ts';
import { rowsOf } from '../state.ts';
import { actionGate, mentionsWord, type LogEntry } from './conversation.ts';
import { scenarioOf } from './scenario.ts';

/** The log as it stands in the final state (the snapshot, not the live database). */
function finalLog(ctx: Pick<VerifyContext, 'final'>): LogEntry[] {
  return (rowsOf(ctx.final, 'user_log') as unknown as LogEntry[]).slice().sort((a, b) => a.seq - b.seq);
}

export const userChecks: Record<string, CheckDefinition> = {
  asked_before_acting: defineCheck({
    kind: 'outcome',
    description:
      'Every call of the listed state-changing tools came after the user had stated every fact the task requires and (with `confirm`, by default the scenario\'s setting) confirmed after the last of them; at least one such call happened.',
    params: z.object({ tools: z.array(z.string().min(1)).min(1), confirm: z.boolean().optional(), name: z.string().optional() }),
    run: ({ tools, confirm }, ctx) => {
      const scenario = scenarioOf(ctx.task);
      if (!scenario) return { passed: false, detail: 'the task has no simulated user (initialState.user)' };
      const log = finalLog(ctx);
      const actions = log.filter((e) => e.kind === 'action' && tools.includes(e.via));
      if (actions.length === 0) return { passed: false, detail: `none of ${tools.join(', ')} was called` };
      const needsConfirm = confirm ?? scenario.confirm.required;
      const gate = actionGate(scenario, log, { confirm: needsConfirm });
      const early = actions.filter((a) => gate === null || a.seq < gate);
      if (early.length === 0) return { passed: true };
      const what = needsConfirm ? 'the user stated every required fact and confirmed' : 'the user stated every required fact';
      return { passed: false, detail: `${early.map((a) => a.via).join(', ')} ran before ${what}` };
    },
  }),
  told_user: defineCheck({
    kind: 'outcome',
    description:
      'Something the agent said to the user (by ask_user or a text answer) mentions each keyword ("a|b" for alternatives), and nothing it said mentions an `excludes` word (so listing every candidate does not pass).',
    params: z.object({ contains: z.array(z.string().min(1)).min(1), excludes: z.array(z.string().min(1)).optional(), name: z.string().optional() }),
    run: ({ contains, excludes }, ctx) => {
      const said = [...finalLog(ctx).filter((e) => e.kind === 'agent').map((e) => e.text), ...(ctx.answer ? [ctx.answer] : [])];
      const missing = contains.filter((k) => !said.some((text) => k.split('|').some((alt) => mentionsWord(text, alt))));
      if (missing.length > 0) return { passed: false, detail: `never told the user ${missing.join(', ')}` };
      const wrong = (excludes ?? []).filter((word) => said.some((text) => mentionsWord(text, word)));
      return wrong.length === 0 ? { passed: true } : { passed: false, detail: `told the user ${wrong.join(', ')}, which it must not` };
    },
  }),
};
