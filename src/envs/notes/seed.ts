import type Database from 'better-sqlite3';
import type { Rng } from '../../core/index.ts';
import type { EpisodeContext } from '../define.ts';
import { parseTaskPart } from '../parsed.ts';
import { insertFixtures, NotesFixtures, parseBlock } from './fixtures.ts';
import { ACTION_LINES, COLLEAGUE_IDS, CUSTOMERS, MEETING_KINDS, NOTE_LINES, ROADMAP_ITEMS, ROSTER, WIKI_TOPICS } from './seed-data.ts';
import { insertBlocks, insertDatabase, insertPage, insertRow } from './write.ts';

/** Top-level pages every seed has, with fixed ids so task fixtures can live under them. */
export const ROOTS = {
  wiki: { id: 'wiki', title: 'Team wiki' },
  meetings: { id: 'meetings', title: 'Meeting notes' },
  projects: { id: 'projects', title: 'Projects' },
  okrs: { id: 'okrs', title: 'OKRs' },
} as const;

function daysAgo(now: Date, days: number, rng: Rng): string {
  return new Date(now.getTime() - days * 86_400_000 - rng.int(0, 8) * 3_600_000).toISOString();
}

function isoDay(now: Date, days: number): string {
  return new Date(now.getTime() - days * 86_400_000).toISOString().slice(0, 10);
}

function addLines(db: Database.Database, pageId: string, lines: string[], options: { ids: EpisodeContext['ids']; at: string; by: string }): void {
  const blocks = lines.map((line) => parseBlock(line, options.ids.next('b')));
  insertBlocks(db, pageId, blocks, { at: options.at, by: options.by });
}

function seedWiki(ctx: EpisodeContext, now: Date): void {
  const { db, rng, ids } = ctx;
  const topics = rng.shuffle(WIKI_TOPICS).slice(0, rng.int(11, WIKI_TOPICS.length + 1));
  for (const topic of topics) {
    const id = ids.next('pg');
    const by = rng.pick(COLLEAGUE_IDS);
    const at = daysAgo(now, rng.int(10, 200), rng);
    insertPage(db, { id, parentId: ROOTS.wiki.id, title: topic.title, at, by });
    const n = String(rng.int(3, 60));
    addLines(db, id, topic.lines.map((l) => l.replace('{n}', n)), { ids, at, by });
  }
}

function seedMeetings(ctx: EpisodeContext, now: Date): void {
  const { db, rng, ids } = ctx;
  const count = rng.int(12, 26);
  for (let i = 0; i < count; i++) {
    const kind = rng.pick(MEETING_KINDS);
    const ago = rng.int(8, 120);
    const title = kind === 'Customer call' ? `Customer call — ${rng.pick(CUSTOMERS)} ${isoDay(now, ago)}` : `${kind} ${isoDay(now, ago)}`;
    const id = ids.next('pg');
    const by = rng.pick(COLLEAGUE_IDS);
    const at = daysAgo(now, ago, rng);
    insertPage(db, { id, parentId: ROOTS.meetings.id, title, at, by });
    const attendees = rng.shuffle(ROSTER).slice(0, rng.int(2, 6)).map((m) => m.name);
    const notes = rng.shuffle(NOTE_LINES).slice(0, rng.int(2, 6));
    const actions = rng.shuffle(ACTION_LINES).slice(0, rng.int(1, 4)).map((a) => `${rng.next() < 0.5 ? '[x]' : '[ ]'} ${a} (${rng.pick(attendees)})`);
    addLines(db, id, [`Attendees: ${attendees.join(', ')}`, '# Notes', ...notes.map((n) => `- ${n}`), '# Action items', ...actions], { ids, at, by });
  }
}

function seedProjects(ctx: EpisodeContext, now: Date): void {
  const { db, rng, ids } = ctx;
  const at = daysAgo(now, 90, rng);
  insertDatabase(db, { id: 'db-roadmap', parentId: ROOTS.projects.id, title: 'Product roadmap', at, by: 'u-ingrid' }, {
    Status: { type: 'select', options: ['Idea', 'Planned', 'In progress', 'Shipped'] },
    Quarter: { type: 'select', options: ['Q1 2026', 'Q2 2026', 'Q3 2026', 'Q4 2026'] },
    Owner: { type: 'person' },
    Effort: { type: 'number' },
  });
  for (const item of rng.shuffle(ROADMAP_ITEMS).slice(0, rng.int(8, 14))) {
    insertRow(db, {
      id: ids.next('pg'),
      databaseId: 'db-roadmap',
      title: item,
      at: daysAgo(now, rng.int(5, 80), rng),
      by: 'u-ingrid',
      values: {
        Status: rng.pick(['Idea', 'Planned', 'In progress', 'Shipped']),
        Quarter: rng.pick(['Q1 2026', 'Q2 2026', 'Q3 2026']),
        Owner: rng.pick(ROSTER).email,
        Effort: rng.int(1, 13),
      },
    });
  }
}

function seedOkrs(ctx: EpisodeContext, now: Date): void {
  const { db, rng, ids } = ctx;
  for (const [title, ago] of [['H2 2025 OKRs', 160], ['Q1 2026 OKRs', 70]] as const) {
    const id = ids.next('pg');
    const at = daysAgo(now, ago, rng);
    insertPage(db, { id, parentId: ROOTS.okrs.id, title, at, by: 'u-ingrid' });
    const lines = ['# Objective: grow self-serve revenue', `- KR: trial-to-paid conversion to ${rng.int(8, 15)}%`, `- KR: ${rng.int(200, 900)} new paying workspaces`, '# Objective: a calmer on-call', `- KR: pages per week below ${rng.int(3, 12)}`];
    addLines(db, id, lines, { ids, at, by: 'u-ingrid' });
  }
}

/** The seeded world: members, a varied background workspace, then the task's own fixtures (`initialState`). */
export function seedNotes(ctx: EpisodeContext): void {
  const parsed = parseTaskPart(NotesFixtures, ctx.task.initialState);
  if (!parsed.success) throw new Error(`task ${ctx.task.id}: initialState: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  seedNotesWith(ctx, parsed.data);
}

/** The same from fixtures given directly, for environments that compose the workspace with others. */
export function seedNotesWith(ctx: EpisodeContext, fixtures: NotesFixtures): void {
  // One transaction: hundreds of single-row inserts are much faster together.
  ctx.db.transaction(() => {
    const { db } = ctx;
    const now = ctx.clock.now();
    const member = db.prepare('INSERT INTO members (id, name, email, team) VALUES (?, ?, ?, ?)');
    for (const m of ROSTER) member.run(m.id, m.name, m.email, m.team);
    const rootAt = new Date(now.getTime() - 400 * 86_400_000).toISOString();
    for (const root of Object.values(ROOTS)) insertPage(db, { id: root.id, parentId: null, title: root.title, at: rootAt, by: 'u-ingrid' });
    if (fixtures.background) {
      seedWiki(ctx, now);
      seedMeetings(ctx, now);
      seedProjects(ctx, now);
      seedOkrs(ctx, now);
    }
    insertFixtures(db, fixtures, now);
  })();
}
