// Expert labels as training rows, one per reviewer's current label (or, when asked, one per unit
// its reviewers agree on): preferences as DPO pairs, verdicts as KTO examples, step ratings as
// process-reward sequences. Messages use the chat shape of the trainer exports. Rows a format
// cannot express (a tie in DPO) are skipped and counted.
import { z } from 'zod';
import { InputError, stableStringify, type JsonObject, type Rollout, type Store } from '../core/index.ts';
import { chatMessage, type ChatMessage } from '../training/export/index.ts';
import { currentLabels, judgedRollouts, staleReason } from './labels.ts';
import type { ReviewLabel, StepLabel } from './model.ts';
import { scopedLabelsFor } from './scope.ts';
import { transcriptOf, type Transcript } from './trajectory.ts';

export const ExportFormat = z.enum(['dpo', 'kto', 'prm']);
export type ExportFormat = z.infer<typeof ExportFormat>;

/**
 * What a 0-rated step becomes in a process-reward row: `drop` gives it no label of its own (its
 * messages join the next labelled step), `negative` labels it false, `neutral` labels it null.
 */
export const ZeroSteps = z.enum(['drop', 'negative', 'neutral']);
export type ZeroSteps = z.infer<typeof ZeroSteps>;

export interface DpoRow {
  prompt: ChatMessage[];
  chosen: ChatMessage[];
  rejected: ChatMessage[];
}

export interface KtoRow {
  prompt: ChatMessage[];
  completion: ChatMessage[];
  label: boolean;
}

export interface PrmRow {
  prompt: ChatMessage[];
  completions: ChatMessage[][];
  labels: (boolean | null)[];
}

export interface LabelExport {
  format: ExportFormat;
  rows: (DpoRow | KtoRow | PrmRow)[];
  /** Labels that gave no row, by reason. */
  skipped: Record<string, number>;
}

export interface ExportLabelsOptions {
  store: Store;
  format: ExportFormat;
  /** Required for `prm`: there is no neutral default for a 0-rated step. */
  zeroSteps?: ZeroSteps;
  runId?: string;
  queueId?: string;
  /**
   * `all` (default) exports one row per reviewer's current label; `majority` one row per rollout
   * (kto, prm) or pair (dpo) with the label most of its reviewers gave; `unanimous` only what every
   * reviewer agrees on. For prm the vote is per step, among the reviewers who rated that step; a
   * step they split on carries no label. Rows that teach one thing and its opposite at once (two
   * reviewers, two verdicts) are what the last two leave out.
   */
  agreement?: LabelAgreement;
}

export type LabelAgreement = 'all' | 'majority' | 'unanimous';

/** The store's rollouts and their final attempts' transcripts, each read once per export. */
class Rollouts {
  private readonly rollouts = new Map<string, Rollout | null>();
  private readonly transcripts = new Map<string, Transcript | null>();
  constructor(private readonly store: Store) {}

  get(rolloutId: string): Rollout | null {
    if (!this.rollouts.has(rolloutId)) this.rollouts.set(rolloutId, this.store.getRollout(rolloutId));
    return this.rollouts.get(rolloutId) ?? null;
  }

  transcript(rolloutId: string): Transcript | null {
    if (!this.transcripts.has(rolloutId)) {
      const rollout = this.get(rolloutId);
      this.transcripts.set(rolloutId, rollout ? transcriptOf({ calls: this.store.modelCalls(rolloutId), events: this.store.events(rolloutId), attempt: rollout.attempt }) : null);
    }
    return this.transcripts.get(rolloutId) ?? null;
  }
}

const chat = (messages: readonly Parameters<typeof chatMessage>[0][]) => messages.map(chatMessage);
const completionOf = (t: Transcript) => chat(t.steps.flatMap((s) => s.messages));
const samePrompt = (a: Transcript, b: Transcript) => JSON.stringify(a.prompt) === JSON.stringify(b.prompt);
/**
 * The same instruction can stand over different worlds: the seed picks the mailbox or repository
 * behind it, and a perturbation may change only the tools. A winner from an easier world is no
 * better answer to the loser's.
 */
const sameWorld = (a: Rollout, b: Rollout) => a.seed === b.seed && stableStringify(a.perturbations) === stableStringify(b.perturbations);
/** Tool-call ids name calls, they do not change what was done: two runs that differ only in them are the same trajectory. */
const behaviour = (messages: readonly ChatMessage[]) =>
  JSON.stringify(messages.map((m) => ({ ...m, tool_call_id: null, tool_calls: m.tool_calls?.map((c) => ({ ...c, id: '' })) ?? null })));

export const SKIP = {
  missing: 'rollout no longer in the store',
  stale: 'label is about an earlier attempt of a rollout since re-run',
  noTurns: 'rollout has no agent turns',
  notATurn: 'step label on a call that is not an agent turn with a reply (a summary, judge or failed call)',
  zeroOnly: 'only 0-rated steps, dropped',
  tie: 'tie (DPO pairs need a winner)',
  differentPrompts: 'the two rollouts were given different prompts (perturbed or differently seeded)',
  sameTrajectory: 'chosen and rejected are the same trajectory',
  split: 'reviewers split with no majority',
  disagree: 'reviewers disagree (unanimous agreement asked)',
  splitStep: 'step left unlabelled: its reviewers split with no majority',
  disagreeStep: 'step left unlabelled: its reviewers disagree (unanimous agreement asked)',
  unscored: (status: string) => `rollout ended ${status}, not scored: the trajectory is not the policy's whole work`,
} as const;

/**
 * Why a label cannot become a training row whatever its format, or null: its rollouts must be
 * stored, judged as they are now (not an attempt a retry replaced), and scored. A rollout that
 * infrastructure, a defect or a cancel ended is not the policy's whole work, so a verdict or
 * preference on it would teach the model about something it did not do.
 */
function unusable(label: ReviewLabel, rollouts: Rollouts): string | null {
  const stale = staleReason(label, (id) => rollouts.get(id));
  if (stale) return SKIP[stale];
  for (const { rolloutId } of judgedRollouts(label)) {
    const status = rollouts.get(rolloutId)!.status;
    if (status !== 'scored') return SKIP.unscored(status);
  }
  return null;
}

function prmRow(transcript: Transcript, ratings: ReadonlyMap<string, StepLabel['rating']>, zeroSteps: ZeroSteps): PrmRow | null {
  const completions: ChatMessage[][] = [];
  const labels: (boolean | null)[] = [];
  let pending: ChatMessage[] = [];
  for (const step of transcript.steps) {
    pending.push(...chat(step.messages));
    const rating = ratings.get(step.callId);
    // Unrated steps, and 0-rated ones under `drop`, carry no label: their messages join the next labelled step.
    if (rating === undefined || (rating === 0 && zeroSteps === 'drop')) continue;
    completions.push(pending);
    labels.push(rating === 1 ? true : rating === -1 ? false : zeroSteps === 'negative' ? false : null);
    pending = [];
  }
  return completions.length > 0 ? { prompt: chat(transcript.prompt), completions, labels } : null;
}

/**
 * One label per unit (a verdict's rollout, a preference's pair) that reviewers agree on as
 * `agreement` asks, standing for all of them; labels no row could use are skipped first, so they
 * do not vote.
 */
function agreedLabels(labels: readonly ReviewLabel[], agreement: 'majority' | 'unanimous', rollouts: Rollouts, skip: (reason: string) => void): ReviewLabel[] {
  const units = new Map<string, { votes: Map<string, ReviewLabel[]>; total: number }>();
  for (const label of labels) {
    const problem = unusable(label, rollouts);
    if (problem) {
      skip(problem);
      continue;
    }
    let unit: string;
    let vote: string;
    if (label.kind === 'verdict') {
      unit = label.rolloutId;
      vote = label.verdict === 'accept' ? 'accept' : 'reject';
    } else if (label.kind === 'preference') {
      unit = [label.leftRolloutId, label.rightRolloutId].sort().join('\u0000');
      vote = label.preferredRolloutId ?? 'tie';
    } else continue;
    const entry = units.get(unit) ?? { votes: new Map<string, ReviewLabel[]>(), total: 0 };
    entry.votes.set(vote, [...(entry.votes.get(vote) ?? []), label]);
    entry.total++;
    units.set(unit, entry);
  }
  const out: ReviewLabel[] = [];
  for (const { votes, total } of units.values()) {
    const [winner] = [...votes.values()].sort((a, b) => b.length - a.length);
    const agreed = agreement === 'unanimous' ? votes.size === 1 : winner!.length * 2 > total;
    if (agreed) out.push(winner![0]!);
    else skip(agreement === 'unanimous' ? SKIP.disagree : SKIP.split);
  }
  return out;
}

interface RatedSteps {
  rolloutId: string;
  ratings: Map<string, StepLabel['rating']>;
}

/** One sequence of step ratings per rollout and reviewer. */
function perReviewer(labels: readonly StepLabel[]): RatedSteps[] {
  const sequences = new Map<string, RatedSteps>();
  for (const label of labels) {
    const key = `${label.rolloutId}\u0000${label.reviewer}`;
    const entry = sequences.get(key) ?? { rolloutId: label.rolloutId, ratings: new Map() };
    entry.ratings.set(label.callId, label.rating);
    sequences.set(key, entry);
  }
  return [...sequences.values()];
}

/**
 * One sequence per rollout, each step rated as its raters agree (`agreement`); a step they do not
 * agree on is left unrated, so its messages join the next labelled step, and is counted.
 */
function agreedSteps(labels: readonly StepLabel[], agreement: 'majority' | 'unanimous', skip: (reason: string) => void): RatedSteps[] {
  const votes = new Map<string, Map<string, StepLabel['rating'][]>>();
  for (const label of labels) {
    const steps = votes.get(label.rolloutId) ?? new Map<string, StepLabel['rating'][]>();
    steps.set(label.callId, [...(steps.get(label.callId) ?? []), label.rating]);
    votes.set(label.rolloutId, steps);
  }
  const out: RatedSteps[] = [];
  for (const [rolloutId, steps] of votes) {
    const ratings = new Map<string, StepLabel['rating']>();
    for (const [callId, given] of steps) {
      const counts = new Map<StepLabel['rating'], number>();
      for (const rating of given) counts.set(rating, (counts.get(rating) ?? 0) + 1);
      const [top, topCount] = [...counts].sort((a, b) => b[1] - a[1])[0]!;
      const agreed = agreement === 'unanimous' ? counts.size === 1 : topCount * 2 > given.length;
      if (agreed) ratings.set(callId, top);
      else skip(agreement === 'unanimous' ? SKIP.disagreeStep : SKIP.splitStep);
    }
    // Every step split: already counted, step by step.
    if (ratings.size > 0) out.push({ rolloutId, ratings });
  }
  return out;
}

export function exportLabels(options: ExportLabelsOptions): LabelExport {
  const current = currentLabels(scopedLabelsFor(options));
  const rollouts = new Rollouts(options.store);
  const skipped: Record<string, number> = {};
  const skip = (reason: string) => void (skipped[reason] = (skipped[reason] ?? 0) + 1);
  const rows: LabelExport['rows'] = [];
  const kind = { dpo: 'preference', kto: 'verdict', prm: 'step' }[options.format] as ReviewLabel['kind'];
  const chosen = current.filter((l) => l.kind === kind);

  if (options.format === 'prm') {
    if (options.zeroSteps === undefined) throw new InputError('zeroSteps', 'is required for format prm: a 0-rated step has no default label', 'drop, negative or neutral');
    const usable: StepLabel[] = [];
    for (const label of chosen as StepLabel[]) {
      const problem = unusable(label, rollouts);
      if (problem) {
        skip(problem);
        continue;
      }
      // A rating the transcript has no step for would be dropped unseen; say so instead.
      if (!rollouts.transcript(label.rolloutId)?.steps.some((s) => s.callId === label.callId)) {
        skip(SKIP.notATurn);
        continue;
      }
      usable.push(label);
    }
    const sequences = options.agreement && options.agreement !== 'all' ? agreedSteps(usable, options.agreement, skip) : perReviewer(usable);
    for (const { rolloutId, ratings } of sequences) {
      const row = prmRow(rollouts.transcript(rolloutId)!, ratings, options.zeroSteps);
      if (row) rows.push(row);
      else skip(SKIP.zeroOnly);
    }
    return { format: options.format, rows, skipped };
  }

  const agreed = options.agreement && options.agreement !== 'all' ? agreedLabels(chosen, options.agreement, rollouts, skip) : chosen;
  for (const label of agreed) {
    if (label.kind === 'preference' && label.preferredRolloutId === null) {
      skip(SKIP.tie);
      continue;
    }
    const problem = unusable(label, rollouts);
    if (problem) {
      skip(problem);
      continue;
    }
    if (label.kind === 'verdict') {
      const transcript = rollouts.transcript(label.rolloutId);
      if (!transcript) skip(SKIP.noTurns);
      else rows.push({ prompt: chat(transcript.prompt), completion: completionOf(transcript), label: label.verdict === 'accept' });
    } else if (label.kind === 'preference') {
      const loser = label.preferredRolloutId === label.leftRolloutId ? label.rightRolloutId : label.leftRolloutId;
      const [win, lose] = [rollouts.transcript(label.preferredRolloutId!), rollouts.transcript(loser)];
      if (!win || !lose) {
        skip(SKIP.noTurns);
        continue;
      }
      const [chosenTurns, rejectedTurns] = [completionOf(win), completionOf(lose)];
      if (!samePrompt(win, lose) || !sameWorld(rollouts.get(label.preferredRolloutId!)!, rollouts.get(loser)!)) skip(SKIP.differentPrompts);
      // Preferring a trajectory over an identical one teaches nothing but noise.
      else if (behaviour(chosenTurns) === behaviour(rejectedTurns)) skip(SKIP.sameTrajectory);
      else rows.push({ prompt: chat(win.prompt), chosen: chosenTurns, rejected: rejectedTurns });
    }
  }
  return { format: options.format, rows, skipped };
}

/** One JSON document per line. */
export function toJsonl(rows: readonly (DpoRow | KtoRow | PrmRow)[]): string {
  return rows.map((row) => `${JSON.stringify(row as unknown as JsonObject)}\n`).join('');
}
