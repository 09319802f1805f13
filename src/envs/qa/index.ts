import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { describeZodIssues, type Task } from '../../core/index.ts';
import { defineEnvironment, VerifierSpec, type CheckDefinition, type EpisodeContext } from '../define.ts';
import { parseTaskPart } from '../parsed.ts';
import { loadTaskDirectory } from '../tasks.ts';
import { answerChecks } from './checks-answer.ts';
import { checklistChecks } from './checks-checklist.ts';
import { judgeChecks } from './checks-judge.ts';

/** The conversation as state: the questions asked (seeded) and the answers given (recorded by `followUp`). */
export const QA_SCHEMA = `
CREATE TABLE questions (turn INTEGER PRIMARY KEY, task_id TEXT NOT NULL, text TEXT NOT NULL);
CREATE TABLE answers (turn INTEGER PRIMARY KEY, text TEXT NOT NULL);
`;

/** What a qa task may put in `initialState` besides the generic world options. */
export const QaInitialState = z.object({
  /** User turns asked one after another once the model has answered the instruction. */
  followUps: z.array(z.string().min(1)).default([]),
});

export const qaChecks: Record<string, CheckDefinition> = { ...answerChecks, ...checklistChecks, ...judgeChecks };

/** For tasks without their own: the model answers in text, and says where it settles. */
export const QA_SYSTEM_PROMPT = 'Answer the user directly in text; there are no tools. When a question has one answer, state it plainly at the end of your reply.';

/** Tasks whose verifier calls a judge model must say so, so suites can leave them out without a judge. */
export const NEEDS_JUDGE = 'needs-judge';

function seedQa(ctx: EpisodeContext): void {
  const parsed = parseTaskPart(QaInitialState, ctx.task.initialState);
  if (!parsed.success) throw new Error(`initialState\n${describeZodIssues(parsed.error.issues, 'initialState')}`);
  const insert = ctx.db.prepare('INSERT INTO questions (turn, task_id, text) VALUES (?, ?, ?)');
  [ctx.task.instruction, ...parsed.data.followUps].forEach((text, i) => insert.run(i + 1, ctx.task.id, text));
}

/** Records the answer to turn `answered` and asks the next question, if any. */
function followUpQa(ctx: EpisodeContext, answer: string, answered: number): string | null {
  ctx.db.prepare('INSERT OR REPLACE INTO answers (turn, text) VALUES (?, ?)').run(answered, answer);
  const next = ctx.db.prepare('SELECT text FROM questions WHERE turn = ?').get(answered + 1) as { text: string } | undefined;
  return next?.text ?? null;
}

/** Problems `gauntlet validate` reports for a qa task beyond what replaying it shows. */
export function qaSelfCheck(task: Task): string[] {
  const problems: string[] = [];
  const state = QaInitialState.safeParse(task.initialState);
  if (!state.success) return [`initialState\n${describeZodIssues(state.error.issues, 'initialState')}`];
  const followUps = state.data.followUps.length;
  const answers = task.golden.followUpAnswers?.length ?? 0;
  if (task.golden.answer === undefined) problems.push('golden.answer is missing (a qa task is solved by its answer)');
  if (answers !== followUps) problems.push(`golden.followUpAnswers has ${answers} answers for ${followUps} initialState.followUps`);
  const spec = VerifierSpec.safeParse(task.verifier);
  const checks = spec.success ? spec.data.checks.map((c) => c.check) : [];
  if (checks.includes('judge') && !task.tags.labels.includes(NEEDS_JUDGE)) problems.push(`the verifier uses a judge; label the task "${NEEDS_JUDGE}"`);
  return problems;
}

let cached: Task[] | undefined;

export function qaTasks(): Task[] {
  cached ??= loadTaskDirectory(fileURLToPath(new URL('./tasks', import.meta.url)), { env: 'qa', systemPrompt: QA_SYSTEM_PROMPT });
  return cached;
}

export const qa = defineEnvironment({
  name: 'qa',
  description:
    'Questions answered in text (math, logic, writing, agentic prompts), single- or multi-turn, graded on the answers: exact, regex, numeric, multiple choice, checklists over the transcript, or a judge model.',
  schema: QA_SCHEMA,
  startTime: '2026-03-16T09:00:00Z',
  seed: seedQa,
  initialState: QaInitialState,
  tools: {},
  checks: qaChecks,
  tasks: qaTasks,
  // Nothing to destroy: with no tools, every policy but the oracle can only answer.
  destructive: () => [],
  followUp: followUpQa,
  selfCheck: async (task) => qaSelfCheck(task),
});

export { extractChoice, extractFinalNumber, wordCount } from './extract.ts';
export { mentions } from './checks-checklist.ts';
export { judgePrompt } from './checks-judge.ts';
export { transcriptOf, type Transcript } from './transcript.ts';
