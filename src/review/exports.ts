// Expert labels as training rows, one per reviewer's current label: preferences as DPO pairs,
// verdicts as KTO examples, step ratings as process-reward sequences. Messages use the chat shape
// of the trainer exports. Rows a format cannot express (a tie in DPO) are skipped and counted.
import { z } from 'zod';
import { InputError, type JsonObject, type Store } from '../core/index.ts';
import { chatMessage, type ChatMessage } from '../training/export/index.ts';
import { currentLabels } from './labels.ts';
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
}

class Transcripts {
  private readonly cache = new Map<string, Transcript | null>();
  constructor(private readonly store: Store) {}

  of(rolloutId: string): Transcript | null {
    if (!this.cache.has(rolloutId)) {
      const rollout = this.store.getRollout(rolloutId);
      this.cache.set(rolloutId, rollout ? transcriptOf({ calls: this.store.modelCalls(rolloutId), events: this.store.events(rolloutId), attempt: rollout.attempt }) : null);
    }
    return this.cache.get(rolloutId) ?? null;
  }
}

const chat = (messages: readonly Parameters<typeof chatMessage>[0][]) => messages.map(chatMessage);
const completionOf = (t: Transcript) => chat(t.steps.flatMap((s) => s.messages));
const samePrompt = (a: Transcript, b: Transcript) => JSON.stringify(a.prompt) === JSON.stringify(b.prompt);

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

export function exportLabels(options: ExportLabelsOptions): LabelExport {
  const current = currentLabels(scopedLabelsFor(options));
  const transcripts = new Transcripts(options.store);
  const skipped: Record<string, number> = {};
  const skip = (reason: string) => void (skipped[reason] = (skipped[reason] ?? 0) + 1);
  const rows: LabelExport['rows'] = [];
  const kind = { dpo: 'preference', kto: 'verdict', prm: 'step' }[options.format] as ReviewLabel['kind'];
  const chosen = current.filter((l) => l.kind === kind);

  if (options.format === 'prm') {
    if (options.zeroSteps === undefined) throw new InputError('zeroSteps', 'is required for format prm: a 0-rated step has no default label', 'drop, negative or neutral');
    const byReviewer = new Map<string, { rolloutId: string; ratings: Map<string, StepLabel['rating']> }>();
    for (const label of chosen as StepLabel[]) {
      const key = `${label.rolloutId}\u0000${label.reviewer}`;
      const entry = byReviewer.get(key) ?? { rolloutId: label.rolloutId, ratings: new Map() };
      entry.ratings.set(label.callId, label.rating);
      byReviewer.set(key, entry);
    }
    for (const { rolloutId, ratings } of byReviewer.values()) {
      const transcript = transcripts.of(rolloutId);
      const row = transcript ? prmRow(transcript, ratings, options.zeroSteps) : null;
      if (row) rows.push(row);
      else skip(transcript ? 'only 0-rated steps, dropped' : 'rollout has no agent turns');
    }
    return { format: options.format, rows, skipped };
  }

  for (const label of chosen) {
    if (label.kind === 'verdict') {
      const transcript = transcripts.of(label.rolloutId);
      if (!transcript) skip('rollout has no agent turns');
      else rows.push({ prompt: chat(transcript.prompt), completion: completionOf(transcript), label: label.verdict === 'accept' });
    } else if (label.kind === 'preference') {
      if (label.preferredRolloutId === null) {
        skip('tie (DPO pairs need a winner)');
        continue;
      }
      const loser = label.preferredRolloutId === label.leftRolloutId ? label.rightRolloutId : label.leftRolloutId;
      const [win, lose] = [transcripts.of(label.preferredRolloutId), transcripts.of(loser)];
      if (!win || !lose) skip('rollout has no agent turns');
      else if (!samePrompt(win, lose)) skip('the two rollouts were given different prompts (perturbed or differently seeded)');
      else rows.push({ prompt: chat(win.prompt), chosen: completionOf(win), rejected: completionOf(lose) });
    }
  }
  return { format: options.format, rows, skipped };
}

/** One JSON document per line. */
export function toJsonl(rows: readonly (DpoRow | KtoRow | PrmRow)[]): string {
  return rows.map((row) => `${JSON.stringify(row as unknown as JsonObject)}\n`).join('');
}
