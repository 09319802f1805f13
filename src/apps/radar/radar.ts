// The research radar: read feeds, drop what was seen before, sort each new item into a subject
// (one classifier agent per item), digest each subject (one agent per subject), write the digest.
import { z } from 'zod';
import { fanOut, SharedBudget, type AgentOutcome, type BudgetReason, type BudgetSpent, type FanoutLimits, type Pricing } from '../../agent/fanout/index.ts';
import type { ModelClient, Store } from '../../core/index.ts';
import { readLabel, slug } from '../labels.ts';
import { createAppRun, outcomeText } from '../run.ts';
import { readState, writeState } from '../state.ts';
import type { AddressCheck } from './addresses.ts';
import { readFeeds, type FeedItem, type FeedSource, type Problem } from './feeds.ts';
import { CLASSIFY_SYSTEM, classifyPrompt, DIGEST_SYSTEM, digestPrompt, NO_SUBJECT, type Subject } from './subjects.ts';

export const SeenItem = z.object({
  title: z.string(),
  link: z.string(),
  summary: z.string(),
  feed: z.string(),
  firstSeen: z.string(),
  subject: z.string(),
  runId: z.string(),
});
export type SeenItem = z.infer<typeof SeenItem>;

export const RadarState = z.object({ version: z.literal(1), items: z.record(z.string(), SeenItem) });
export type RadarState = z.infer<typeof RadarState>;
export const emptyRadarState = (): RadarState => ({ version: 1, items: {} });

export interface RadarOptions {
  feeds: readonly FeedSource[];
  /** Where relative feed paths start. */
  base: string;
  subjects: readonly Subject[];
  model: ModelClient;
  store: Store;
  /** The JSON file of items seen before (beside the store). */
  statePath: string;
  /** The digest's date, YYYY-MM-DD. */
  date: string;
  concurrency: number;
  limits?: FanoutLimits;
  /** What tokens cost; needed for a dollar limit, and reported as dollars spent. */
  pricing?: Pricing;
  agentDeadlineMs?: number;
  /** Ctrl-C: running agents are cancelled, none starts; what was sorted is kept and the run stored as interrupted. */
  signal?: AbortSignal;
  fetch?: typeof fetch;
  /** Which addresses a feed's redirects may reach, and how names are resolved (default: public ones, by the system resolver). */
  addressCheck?: AddressCheck;
  now?: () => Date;
}

export interface DigestSection {
  subject: Subject;
  items: FeedItem[];
  /** The subject agent's text, or null when it failed (`failure` says why). */
  digest: string | null;
  failure: string | null;
  rolloutId: string | null;
}

export interface RadarResult {
  runId: string;
  date: string;
  read: { feeds: number; entries: number; items: number; skipped: number; problems: Problem[] };
  duplicates: { seenBefore: number; inThisBatch: number };
  sections: DigestSection[];
  unassigned: FeedItem[];
  /** Items the classifier could not sort this time: not marked seen, so the next run tries again. */
  unsorted: { item: FeedItem; reason: string }[];
  budget: { spent: BudgetSpent; exhausted: BudgetReason | null };
  /** The caller's signal stopped the agents: unsorted items and missing digests say which. */
  interrupted: boolean;
}

export async function runRadar(options: RadarOptions): Promise<RadarResult> {
  const now = options.now ?? (() => new Date());
  const read = await readFeeds({ feeds: options.feeds, base: options.base, ...(options.fetch ? { fetch: options.fetch } : {}), ...(options.addressCheck ? { addressCheck: options.addressCheck } : {}) });
  const state = await readState(options.statePath, RadarState, emptyRadarState);
  const { fresh, seenBefore, inThisBatch } = newItems(read.items, state);
  const run = createAppRun(options.store, { app: 'radar', model: options.model.spec, concurrency: options.concurrency, now });
  const budget = new SharedBudget({ limits: options.limits ?? {}, ...(options.pricing ? { pricing: options.pricing } : {}), now: () => now().getTime() });
  const recording = (stage: string) => ({ store: options.store, runId: run.id, env: 'apps/radar', stage });
  const common = { model: options.model, concurrency: options.concurrency, budget, ...(options.agentDeadlineMs ? { agentDeadlineMs: options.agentDeadlineMs } : {}), ...(options.signal ? { signal: options.signal } : {}) };

  const allowed = [...options.subjects.map((s) => s.id), NO_SUBJECT];
  const sorted = await fanOut({
    ...common,
    items: fresh,
    name: (item, i) => `${String(i).padStart(4, '0')}-${slug(item.title)}`,
    recording: recording('classify'),
    agent: async ({ item, complete }) => {
      const response = await complete({ messages: [{ role: 'system', content: CLASSIFY_SYSTEM }, { role: 'user', content: classifyPrompt(item, options.subjects) }] });
      return readLabel(response.message.content, { field: 'Subject', allowed });
    },
  });

  const bySubject = new Map<string, FeedItem[]>();
  const unsorted: RadarResult['unsorted'] = [];
  sorted.outcomes.forEach((outcome, i) => {
    const item = fresh[i] as FeedItem;
    if (outcome.status !== 'ok') return void unsorted.push({ item, reason: outcomeText(outcome) });
    bySubject.set(outcome.value, [...(bySubject.get(outcome.value) ?? []), item]);
  });

  const active = options.subjects.filter((s) => bySubject.has(s.id));
  const digested = await fanOut({
    ...common,
    items: active,
    name: (subject) => subject.id,
    recording: recording('digest'),
    agent: async ({ item: subject, complete }) => {
      const response = await complete({ messages: [{ role: 'system', content: DIGEST_SYSTEM }, { role: 'user', content: digestPrompt(subject, bySubject.get(subject.id) ?? []) }] });
      return response.message.content.trim();
    },
  });
  const sections: DigestSection[] = active.map((subject, i) => {
    const outcome = digested.outcomes[i] as AgentOutcome<string>;
    return {
      subject,
      items: bySubject.get(subject.id) ?? [],
      digest: outcome.status === 'ok' ? outcome.value : null,
      failure: outcome.status === 'ok' ? null : outcomeText(outcome),
      rolloutId: outcome.rolloutId,
    };
  });

  const stamp = now().toISOString();
  for (const [subject, items] of bySubject) {
    // defineProperty, not assignment: a key like `__proto__` (a link to `https://__proto__/`) would otherwise replace the record's prototype.
    for (const item of items) Object.defineProperty(state.items, item.key, { value: { title: item.title, link: item.link, summary: item.summary, feed: item.feed, firstSeen: stamp, subject, runId: run.id }, enumerable: true, writable: true, configurable: true });
  }
  await writeState(options.statePath, state);
  const interrupted = options.signal?.aborted ?? false;
  options.store.setRunStatus(run.id, interrupted ? 'interrupted' : 'finished');
  return {
    runId: run.id,
    date: options.date,
    read: { feeds: options.feeds.length, entries: read.entries, items: read.items.length, skipped: read.problems.length, problems: read.problems },
    duplicates: { seenBefore, inThisBatch },
    sections,
    unassigned: bySubject.get(NO_SUBJECT) ?? [],
    unsorted,
    budget: { spent: digested.spent, exhausted: budget.exhausted() },
    interrupted,
  };
}

function newItems(items: readonly FeedItem[], state: RadarState): { fresh: FeedItem[]; seenBefore: number; inThisBatch: number } {
  const keys = new Set<string>();
  const fresh: FeedItem[] = [];
  let seenBefore = 0;
  let inThisBatch = 0;
  for (const item of items) {
    // Own keys only: `constructor` or `toString` (from a link to `https://constructor/`) are on every object's prototype.
    if (Object.hasOwn(state.items, item.key)) seenBefore++;
    else if (keys.has(item.key)) inThisBatch++;
    else {
      keys.add(item.key);
      fresh.push(item);
    }
  }
  return { fresh, seenBefore, inThisBatch };
}
