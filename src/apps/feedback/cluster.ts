// Duplicates (same text once normalised) are merged; similar reports are grouped by word overlap.
import { createHash } from 'node:crypto';
import type { FeedbackReport } from './ingest.ts';

export interface Cluster {
  id: string;
  /** The first report of the cluster: what the classifier reads. */
  representative: FeedbackReport;
  reports: FeedbackReport[];
  /** Reports dropped as exact duplicates of one in this cluster. */
  duplicates: string[];
}

const STOPWORDS = new Set('a an and are as at be but by do does for from has have i if in is it its me my no not of on or so that the this to was when with you your'.split(' '));

export function normaliseText(text: string): string {
  return text.toLowerCase().replace(/[^\p{L}\p{N}]+/gu, ' ').trim();
}

function words(report: FeedbackReport): Set<string> {
  return new Set(normaliseText(`${report.title} ${report.body}`).split(' ').filter((w) => w.length > 1 && !STOPWORDS.has(w)));
}

function jaccard(a: ReadonlySet<string>, b: ReadonlySet<string>): number {
  let shared = 0;
  for (const w of a) if (b.has(w)) shared++;
  const union = a.size + b.size - shared;
  return union === 0 ? 0 : shared / union;
}

/**
 * Greedy and deterministic: each report joins the first cluster whose representative it overlaps
 * by at least `threshold` (Jaccard over content words), else starts a new one.
 */
export function clusterReports(reports: readonly FeedbackReport[], options: { threshold?: number } = {}): { clusters: Cluster[]; duplicates: number } {
  const threshold = options.threshold ?? 0.5;
  const clusters: (Cluster & { words: Set<string> })[] = [];
  const byHash = new Map<string, Cluster>();
  let duplicates = 0;
  for (const report of reports) {
    const hash = createHash('sha256').update(normaliseText(`${report.title}\n${report.body}`)).digest('hex');
    const same = byHash.get(hash);
    if (same) {
      same.duplicates.push(report.id);
      duplicates++;
      continue;
    }
    const set = words(report);
    const home = clusters.find((c) => jaccard(c.words, set) >= threshold);
    if (home) home.reports.push(report);
    else clusters.push({ id: `c${clusters.length + 1}`, representative: report, reports: [report], duplicates: [], words: set });
    byHash.set(hash, home ?? (clusters.at(-1) as Cluster));
  }
  return { clusters: clusters.map(({ words: _words, ...c }) => c), duplicates };
}
