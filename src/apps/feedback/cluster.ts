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
 * Two reports are the same report when their text matches once normalised and they ask, answer and
 * expect the same: a second report with the same complaint about a different question keeps its
 * prompt and expected answer, which `feedback to-tasks` needs.
 */
function sameReportKey(report: FeedbackReport): string {
  return createHash('sha256')
    .update(JSON.stringify([normaliseText(`${report.title}\n${report.body}`), report.prompt, report.response, report.expected]))
    .digest('hex');
}

/**
 * The words of a set that any set at Jaccard ≥ threshold must share with it (prefix filtering):
 * if J(a, b) ≥ t then |a ∩ b| ≥ ⌈t·|a|⌉, so under one fixed order of all words the first
 * |a| − ⌈t·|a|⌉ + 1 words of a and of b have one in common. Rarest words first keeps the lists short.
 */
function prefix(set: ReadonlySet<string>, threshold: number, rank: ReadonlyMap<string, number>): string[] {
  // The small epsilon keeps 0.7 × 10 = 7.000000000000001 from asking one word too few.
  const length = set.size - Math.ceil(threshold * set.size - 1e-9) + 1;
  return [...set].sort((x, y) => (rank.get(x) ?? 0) - (rank.get(y) ?? 0)).slice(0, Math.max(0, length));
}

/**
 * Greedy and deterministic: each report joins the first cluster whose representative it overlaps
 * by at least `threshold` (Jaccard over content words), else starts a new one. Only clusters that
 * share one of the report's rarest words are compared (see `prefix`): the same clusters as comparing
 * with every one, but tens of thousands of distinct reports, each mostly its own words, no longer
 * cost a comparison per pair. (Reports made mostly of words common to all still compare with most
 * clusters.) `comparisons` counts the Jaccard computations made.
 */
export function clusterReports(reports: readonly FeedbackReport[], options: { threshold?: number } = {}): { clusters: Cluster[]; duplicates: number; comparisons: number } {
  const threshold = options.threshold ?? 0.5;
  const sets = reports.map(words);
  // One order of all words, rarest first (ties by the word itself, so it is deterministic).
  const frequency = new Map<string, number>();
  for (const set of sets) for (const w of set) frequency.set(w, (frequency.get(w) ?? 0) + 1);
  const rank = new Map([...frequency].sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map(([w], i) => [w, i]));

  const clusters: (Cluster & { words: Set<string> })[] = [];
  const byPrefixWord = new Map<string, number[]>();
  const byKey = new Map<string, Cluster>();
  let duplicates = 0;
  let comparisons = 0;
  reports.forEach((report, i) => {
    const key = sameReportKey(report);
    const same = byKey.get(key);
    if (same) {
      same.duplicates.push(report.id);
      duplicates++;
      return;
    }
    const set = sets[i] as Set<string>;
    const words = prefix(set, threshold, rank);
    const lists = words.map((w) => byPrefixWord.get(w)).filter((list) => list !== undefined);
    const at = lists.map(() => 0);
    let home: (Cluster & { words: Set<string> }) | undefined;
    // The clusters in the lists, merged in ascending order and each once: the first match is the earliest cluster.
    while (!home) {
      let next = Infinity;
      for (let l = 0; l < lists.length; l++) next = Math.min(next, lists[l]?.[at[l] ?? 0] ?? Infinity);
      if (next === Infinity) break;
      for (let l = 0; l < lists.length; l++) if (lists[l]?.[at[l] ?? 0] === next) at[l] = (at[l] ?? 0) + 1;
      comparisons++;
      const cluster = clusters[next] as Cluster & { words: Set<string> };
      if (jaccard(cluster.words, set) >= threshold) home = cluster;
    }
    if (home) home.reports.push(report);
    else {
      home = { id: `c${clusters.length + 1}`, representative: report, reports: [report], duplicates: [], words: set };
      clusters.push(home);
      for (const w of words) {
        const list = byPrefixWord.get(w);
        if (list) list.push(clusters.length - 1);
        else byPrefixWord.set(w, [clusters.length - 1]);
      }
    }
    byKey.set(key, home);
  });
  return { clusters: clusters.map(({ words: _words, ...c }) => c), duplicates, comparisons };
}
