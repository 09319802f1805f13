import type { Rng } from '../../core/index.ts';
import type { EpisodeContext } from '../define.ts';
import { ME, type MessageRow } from './schema.ts';
import { addLabelRow, insertMessage, newIdUnless, usedIds, type IdPrefix } from './store.ts';
import {
  DAYS,
  FIRST_NAMES,
  LAST_NAMES,
  NEWSLETTERS,
  PARTNER_TEMPLATES,
  PARTNERS,
  PROJECTS,
  REPLY_BODIES,
  SERVICES,
  THREAD_TEMPLATES,
  TOPICS,
  type Organisation,
} from './words.ts';

export interface BackgroundOptions {
  min: number;
  max: number;
  /** Lower-case addresses and full names the task's fixtures use: background mail never uses them. */
  avoid: ReadonlySet<string>;
}

interface Person {
  first: string;
  last: string;
  name: string;
  email: string;
  org: Organisation | undefined;
}

const HOUR = 3_600_000;

/** ISO strings of instants, kept: every episode's background formats the same few thousand hours. */
const isoByMs = new Map<number, string>();

function isoAt(ms: number): string {
  let iso = isoByMs.get(ms);
  if (iso === undefined) {
    iso = new Date(ms).toISOString();
    if (isoByMs.size >= 50_000) isoByMs.clear();
    isoByMs.set(ms, iso);
  }
  return iso;
}

/** Templates split once into [text, key, text, key, …, text]: filling is the hot loop of seeding. */
const splitTemplates = new Map<string, string[]>();

/** `template` with each {key} replaced by vars[key]; unknown keys stay as written. */
function fill(template: string, vars: Record<string, string>): string {
  let parts = splitTemplates.get(template);
  if (!parts) {
    parts = template.split(/\{(\w+)\}/);
    splitTemplates.set(template, parts);
  }
  let out = parts[0]!;
  for (let i = 1; i < parts.length; i += 2) out += (vars[parts[i]!] ?? `{${parts[i]!}}`) + parts[i + 1]!;
  return out;
}

function people(rng: Rng, count: number, options: { org: () => Organisation | undefined; avoid: ReadonlySet<string> }): Person[] {
  const { org, avoid } = options;
  const out: Person[] = [];
  const seen = new Set<string>();
  for (let tries = 0; out.length < count && tries < count * 20; tries++) {
    const first = rng.pick(FIRST_NAMES);
    const last = rng.pick(LAST_NAMES);
    const o = org();
    const email = `${first}.${last}@${o?.domain ?? 'northwind.example'}`.toLowerCase();
    const name = `${first} ${last}`;
    if (seen.has(email) || avoid.has(email) || avoid.has(name.toLowerCase())) continue;
    seen.add(email);
    out.push({ first, last, name, email, org: o });
  }
  return out;
}

/** Writes seeded background mail: colleagues' threads, partners, newsletters and notifications. */
export function seedBackground(ctx: EpisodeContext, options: BackgroundOptions): void {
  const rng = ctx.rng.fork('background');
  const { db } = ctx;
  const nowMs = ctx.clock.now().getTime();
  // Only this function writes while it runs, so the ids in use can be tracked here.
  const used = usedIds(db);
  const freshId = (prefix: IdPrefix): string => {
    const id = newIdUnless(ctx, prefix, (candidate) => used[prefix].has(candidate));
    used[prefix].add(id);
    return id;
  };
  const colleagues = people(rng, 12, { org: () => undefined, avoid: options.avoid });
  const partners = people(rng, 7, { org: () => rng.pick(PARTNERS), avoid: options.avoid });
  if (colleagues.length < 2 || partners.length < 1) return;

  for (const person of [...colleagues, ...partners]) {
    const id = newIdUnless(ctx, 'ct', (candidate) => used.ct.has(candidate));
    const { changes } = db.prepare('INSERT OR IGNORE INTO contacts (id, name, email, company, phone, notes) VALUES (?, ?, ?, ?, ?, ?)').run(
      id,
      person.name,
      person.email,
      person.org?.name ?? 'Northwind',
      `+44 20 7946 ${String(rng.int(0, 10000)).padStart(4, '0')}`,
      '',
    );
    if (changes > 0) used.ct.add(id);
  }

  const target = rng.int(options.min, options.max + 1);
  const written: MessageRow[] = [];
  const vars = (person: Person): Record<string, string> => ({
    first: person.first,
    last: person.last,
    org: person.org?.name ?? 'Northwind',
    person: rng.pick(colleagues).name,
    project: rng.pick(PROJECTS),
    topic: rng.pick(TOPICS),
    day: rng.pick(DAYS),
  });
  // Sent times as written, and their instants, so `write` need not parse them back.
  const sentMs = new Map<string, number>();
  const at = (hoursAgo: number) => {
    const ms = nowMs - Math.max(0.5, hoursAgo) * HOUR;
    const iso = isoAt(ms);
    sentMs.set(iso, Math.trunc(ms));
    return iso;
  };
  const write = (row: Omit<MessageRow, 'id' | 'read' | 'starred' | 'forwarded_from'>, labels: string[] = []): MessageRow => {
    const ageHours = (nowMs - (sentMs.get(row.sent_at) ?? Date.parse(row.sent_at))) / HOUR;
    const mine = row.from_addr === ME.email;
    const id = freshId('msg');
    const read = mine || rng.next() < (ageHours > 72 ? 0.85 : 0.35) ? 1 : 0;
    const starred = rng.next() < 0.05 ? 1 : 0;
    const full: MessageRow = {
      id,
      thread_id: row.thread_id,
      folder: row.folder,
      from_addr: row.from_addr,
      from_name: row.from_name,
      to_addrs: row.to_addrs,
      cc_addrs: row.cc_addrs,
      subject: row.subject,
      body: row.body,
      sent_at: row.sent_at,
      read,
      starred,
      in_reply_to: row.in_reply_to,
      forwarded_from: null,
    };
    insertMessage(db, full);
    for (const label of labels) addLabelRow(db, full.id, label);
    written.push(full);
    return full;
  };
  const incomingFolder = (hoursAgo: number) => (hoursAgo > 24 * 20 && rng.next() < 0.5 ? 'archive' : 'inbox');

  while (written.length < target) {
    const roll = rng.next();
    const hoursAgo = rng.int(1, 24 * 45);
    if (roll < 0.35) {
      // A colleague thread, sometimes with a near-duplicate subject started later.
      const author = rng.pick(colleagues);
      const template = rng.pick(THREAD_TEMPLATES);
      const v = vars(author);
      const subject = fill(template.subject, v);
      const thread = freshId('thr');
      const cc = rng.next() < 0.3 ? rng.pick(colleagues.filter((c) => c !== author)).email : '';
      let parent = write({
        thread_id: thread,
        folder: incomingFolder(hoursAgo),
        from_addr: author.email,
        from_name: author.name,
        to_addrs: ME.email,
        cc_addrs: cc,
        subject,
        body: fill(template.body, v),
        sent_at: at(hoursAgo),
        in_reply_to: null,
      }, rng.next() < 0.1 ? ['follow-up'] : []);
      let age = hoursAgo;
      for (let r = rng.int(0, 4); r > 0 && age > 2; r--) {
        age = Math.max(1, age - rng.int(1, 30));
        const mine = parent.from_addr !== ME.email;
        parent = write({
          thread_id: thread,
          folder: mine ? 'sent' : incomingFolder(age),
          from_addr: mine ? ME.email : author.email,
          from_name: mine ? ME.name : author.name,
          to_addrs: mine ? author.email : ME.email,
          cc_addrs: cc,
          subject: `Re: ${subject}`,
          body: `${fill(rng.pick(REPLY_BODIES), v)}\n\n${mine ? 'Robin' : author.first}`,
          sent_at: at(age),
          in_reply_to: parent.id,
        });
      }
      if (rng.next() < 0.2) {
        write({
          thread_id: freshId('thr'),
          folder: 'inbox',
          from_addr: author.email,
          from_name: author.name,
          to_addrs: ME.email,
          cc_addrs: '',
          subject: `${subject} (updated)`,
          body: `Resending with one correction: the ${v.topic} is now in the shared folder, not attached.\n\n${author.first}`,
          sent_at: at(Math.max(1, age - 3)),
          in_reply_to: null,
        });
      }
    } else if (roll < 0.55) {
      const pub = rng.pick(NEWSLETTERS);
      const topic = rng.pick(pub.topics);
      write({
        thread_id: freshId('thr'),
        folder: incomingFolder(hoursAgo),
        from_addr: pub.address,
        from_name: pub.name,
        to_addrs: ME.email,
        cc_addrs: '',
        subject: `${pub.name} — ${topic}, and three more reads`,
        body: `This week in ${pub.name}: a long look at ${topic}, reader letters, and what to watch next month.\n\nYou get this because you subscribed to ${pub.name}. Unsubscribe any time from the link in your profile.`,
        sent_at: at(hoursAgo),
        in_reply_to: null,
      }, rng.next() < 0.3 ? ['newsletters'] : []);
    } else if (roll < 0.85) {
      const service = rng.pick(SERVICES);
      const which = rng.int(0, service.subjects.length);
      const v = vars(rng.pick(colleagues));
      write({
        thread_id: freshId('thr'),
        folder: incomingFolder(hoursAgo),
        from_addr: service.address,
        from_name: service.name,
        to_addrs: ME.email,
        cc_addrs: '',
        subject: fill(service.subjects[which] ?? '', v),
        body: fill(service.bodies[which] ?? service.bodies[0] ?? '', v),
        sent_at: at(hoursAgo),
        in_reply_to: null,
      });
    } else {
      const partner = rng.pick(partners);
      const template = rng.pick(PARTNER_TEMPLATES);
      const v = vars(partner);
      write({
        thread_id: freshId('thr'),
        folder: incomingFolder(hoursAgo),
        from_addr: partner.email,
        from_name: partner.name,
        to_addrs: ME.email,
        cc_addrs: '',
        subject: fill(template.subject, v),
        body: fill(template.body, v),
        sent_at: at(hoursAgo),
        in_reply_to: null,
      });
    }
  }

  // A little clutter: an unfinished draft and a few messages already in the trash.
  const colleague = rng.pick(colleagues);
  write({
    thread_id: freshId('thr'),
    folder: 'drafts',
    from_addr: ME.email,
    from_name: ME.name,
    to_addrs: colleague.email,
    cc_addrs: '',
    subject: `Notes on the ${rng.pick(TOPICS)}`,
    body: 'Half-written: I think we should',
    sent_at: at(rng.int(2, 200)),
    in_reply_to: null,
  });
  const incoming = written.filter((m) => m.folder === 'inbox' || m.folder === 'archive');
  for (let i = rng.int(1, 4); i > 0 && incoming.length > 0; i--) {
    const victim = incoming.splice(rng.int(0, incoming.length), 1)[0]!;
    db.prepare(`UPDATE messages SET folder = 'trash' WHERE id = ?`).run(victim.id);
  }
}
