// prompts.paraphrase and prompts.split: the same request worded around differently, or handed
// over in several user turns. The request's own words are kept verbatim (only what surrounds them
// and how they are laid out changes): names, numbers and quotes the checks rely on stay intact.
import { z } from 'zod';
import type { Task } from '../../core/index.ts';
import { isMultiline, sentencesOf } from '../text.ts';
import { definePerturbation } from '../types.ts';

export const PARAPHRASE_STYLES = ['framed', 'bulleted', 'casual', 'formal'] as const;

const OPENERS = ['Here is what I need from you:', 'A request for you:', 'Could you take care of the following?', 'Something for you to handle:'] as const;
const CLOSERS = ['Thanks.', 'Thank you!', 'Let me know once it is done.', 'Much appreciated.'] as const;

export const paraphrase = definePerturbation({
  id: 'prompts.paraphrase',
  family: 'prompts',
  summary: 'rewords the request around its own words: framed by an opener and closer, as a numbered list, casual or formal',
  randomised: (params) => params.style === 'framed',
  params: z.object({ style: z.enum(PARAPHRASE_STYLES).default('framed') }).strict(),
  supports(target, params) {
    if (params.style !== 'bulleted') return null;
    if (isMultiline(target.task.instruction)) return 'the instruction is already laid out in lines';
    return sentencesOf(target.task.instruction).length < 2 ? 'the instruction is a single sentence' : null;
  },
  apply(target, { rng, params }) {
    const original = target.task.instruction;
    let instruction: string;
    switch (params.style) {
      case 'framed':
        instruction = `${rng.pick(OPENERS)}\n\n${original}\n\n${rng.pick(CLOSERS)}`;
        break;
      case 'bulleted':
        instruction = `Please handle the following:\n${sentencesOf(original)
          .map((s, i) => `${i + 1}. ${s}`)
          .join('\n')}`;
        break;
      case 'casual':
        instruction = `hey, quick one for you: ${original} thanks!`;
        break;
      case 'formal':
        instruction = `Good day. I would be grateful if you could attend to the matter below.\n\n${original}\n\nWith thanks in advance.`;
        break;
    }
    return { task: { ...target.task, instruction } };
  },
});

/** What the oracle says to a part of the request before the last one arrives. */
export const ACKNOWLEDGEMENT = 'Understood. Please go on.';
/** The oracle's answer when a golden solution has none (the oracle policy says the same). */
const ORACLE_DEFAULT_ANSWER = 'Done.';
const ANNOUNCEMENT = '(More details follow in my next message; wait for them before you finish.)';

/** `count` contiguous groups of sentences, cut at distinct seeded points. */
function groups(sentences: readonly string[], cuts: readonly number[]): string[] {
  const bounds = [0, ...cuts, sentences.length];
  return bounds.slice(1).map((end, i) => sentences.slice(bounds[i], end).join(' '));
}

/**
 * The golden solution for a split request: the oracle acknowledges each part but the last, then
 * gives its real answer and the task's own follow-up answers.
 */
function splitGolden(task: Task, parts: number): Task['golden'] {
  const { answer, followUpAnswers, ...rest } = task.golden;
  return {
    ...rest,
    answer: ACKNOWLEDGEMENT,
    followUpAnswers: [...Array.from({ length: parts - 2 }, () => ACKNOWLEDGEMENT), answer ?? ORACLE_DEFAULT_ANSWER, ...(followUpAnswers ?? [])],
  };
}

export const split = definePerturbation({
  id: 'prompts.split',
  family: 'prompts',
  summary: 'hands the request over in several user turns, each after the agent replies; the first part says more follows',
  randomised: () => true,
  params: z.object({ parts: z.number().int().min(2).max(4).default(2) }).strict(),
  supports(target) {
    const task = target.task;
    // Text-only and multi-turn tasks are graded turn by turn; extra turns would shift what is graded.
    if (target.tools.length === 0) return 'a text-only task is graded turn by turn';
    if ((task.golden.followUpAnswers?.length ?? 0) > 0) return 'the task already has follow-up user turns';
    if (isMultiline(task.instruction)) return 'the instruction is laid out in lines (a list or code) that a split could cut';
    return sentencesOf(task.instruction).length < 2 ? 'the instruction is a single sentence' : null;
  },
  apply(target, { rng, params }) {
    const sentences = sentencesOf(target.task.instruction);
    const count = Math.min(params.parts, sentences.length);
    const gaps = rng.shuffle(Array.from({ length: sentences.length - 1 }, (_, i) => i + 1));
    const cuts = gaps.slice(0, count - 1).sort((a, b) => a - b);
    const [first, ...later] = groups(sentences, cuts);
    return {
      task: { ...target.task, instruction: `${first} ${ANNOUNCEMENT}`, golden: splitGolden(target.task, count) },
      conversation: { parts: later },
    };
  },
});
