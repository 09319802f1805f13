// Capability areas, their owners and keyword rules; the classifier prompt for what rules leave open.
import { z } from 'zod';
import type { Cluster } from './cluster.ts';

export const Area = z
  .object({
    id: z.string().regex(/^[a-z0-9_-]+$/, 'lowercase letters, digits, _ and -').refine((id) => id !== 'none', 'none is reserved'),
    name: z.string().min(1),
    description: z.string().min(1),
    owners: z.array(z.string().min(1)).min(1),
    /** Whole words or phrases (case-insensitive) that point at this area. */
    keywords: z.array(z.string().min(1)).default([]),
  })
  .strict();
export type Area = z.infer<typeof Area>;

export const FeedbackConfig = z
  .object({
    areas: z.array(Area).min(1),
    /** Who gets what no area claims. */
    triageOwners: z.array(z.string().min(1)).min(1),
    /** Word overlap (Jaccard) at which two reports are one cluster. */
    clusterThreshold: z.number().gt(0).max(1).default(0.5),
  })
  .strict()
  .refine((c) => new Set(c.areas.map((a) => a.id)).size === c.areas.length, 'area ids must be unique');
export type FeedbackConfig = z.infer<typeof FeedbackConfig>;

export const NO_AREA = 'none';

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Keyword hits per area over a cluster's text; the rules decide when one area leads outright. */
export function ruleArea(cluster: Pick<Cluster, 'reports'>, areas: readonly Area[]): { area: string | null; hits: Record<string, number> } {
  const text = cluster.reports.map((r) => `${r.title}\n${r.body}`).join('\n');
  const hits: Record<string, number> = {};
  for (const area of areas) {
    hits[area.id] = area.keywords.reduce((n, k) => n + (text.match(new RegExp(`(?<![\\p{L}\\p{N}])${escapeRegex(k)}(?![\\p{L}\\p{N}])`, 'giu'))?.length ?? 0), 0);
  }
  const ranked = Object.entries(hits).sort((a, b) => b[1] - a[1]);
  const [first, second] = ranked;
  // A tie or no hit at all is not a decision: the model (or a person) decides.
  return { area: first && first[1] > 0 && (!second || first[1] > second[1]) ? first[0] : null, hits };
}

export const CLASSIFY_FEEDBACK_SYSTEM = 'You triage user feedback about an AI model to the team that owns the capability it is about. End with the line the question asks for, naming one area id.';

export function classifyFeedbackPrompt(report: { title: string; body: string }, areas: readonly Area[]): string {
  return [
    'Which capability area is this user feedback about?',
    '',
    'Areas:',
    ...areas.map((a) => `- ${a.id}: ${a.name}. ${a.description}`),
    `- ${NO_AREA}: none of them (praise, billing, unclear).`,
    '',
    'Feedback:',
    // One line, and short: a title is the reporter's text, and it must not add lines that pass for
    // the question's own (areas, instructions) nor make every call pay for megabytes.
    `Title: ${report.title.replace(/\s+/g, ' ').slice(0, 300)}`,
    `Body: ${report.body.slice(0, 2_000)}`,
    '',
    'Reply with one line: `Area: <id>`.',
  ].join('\n');
}
