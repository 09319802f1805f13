// Ticket triage: a folder of tickets with front matter, and meeting notes in which the team decided
// something different about each one (close as duplicate, resolved, won't fix, assign, wait for
// the reporter). Each ticket needs its own edit, taken from prose that names people by first name.
import type { JsonObject, Task } from '../../../core/index.ts';
import { familyRng, familyTask, reEscape, sample, step } from './common.ts';

const TITLES = [
  'Export button does nothing on Safari', 'Invoice PDF shows wrong VAT rate', 'Password reset email arrives twice',
  'Dashboard graphs empty after midnight UTC', 'CSV import rejects semicolons', 'Search ignores accented letters',
  'Dark mode unreadable in settings', 'Timezone wrong in weekly digest', 'Webhook retries never stop',
  'Upload fails for files over 2 GB', 'Mobile menu overlaps logo', 'SSO login loops on Firefox',
  'Refund total off by one cent', 'Slow load of customer list', 'Typo on pricing page', 'Audit log misses deletions',
  'API returns 500 on empty filter', 'Session expires during checkout', 'Duplicate rows in monthly report',
  'Tooltip hidden behind modal', 'Bulk delete has no confirmation', 'Currency symbol missing for CHF',
  'Calendar invite has no location', 'Report scheduler skips Sundays', 'Avatar upload rotates photos',
  'Print view cuts off last column', 'Two-factor codes rejected after DST', 'Exported ZIP is empty', 'Notification badge never clears',
];

const PEOPLE = [
  { first: 'Priya', handle: 'priya.nair', full: 'Priya Nair' },
  { first: 'Jonas', handle: 'jbauer', full: 'Jonas Bauer' },
  { first: 'Amara', handle: 'amara.o', full: 'Amara Okafor' },
  { first: 'Diego', handle: 'dgarcia', full: 'Diego Garcia' },
  { first: 'Mei', handle: 'mei.lin', full: 'Mei Lin' },
];

type Decision =
  | { kind: 'duplicate'; of: string }
  | { kind: 'fixed' }
  | { kind: 'wontfix' }
  | { kind: 'assign'; person: (typeof PEOPLE)[number] }
  | { kind: 'waiting' };

interface Ticket {
  id: string;
  title: string;
  priority: string;
  body: string;
}

function render(t: Ticket, front: Record<string, string>): string {
  const lines = ['---', `id: ${t.id}`, `title: ${t.title}`, ...Object.entries(front).map(([k, v]) => `${k}: ${v}`), `priority: ${t.priority}`, '---', t.body, ''];
  return lines.join('\n');
}

/** The front matter a decision leads to (status first, then owner/resolution). */
function outcome(d: Decision): Record<string, string> {
  switch (d.kind) {
    case 'duplicate':
      return { status: 'closed', owner: 'unassigned', resolution: `duplicate of ${d.of}` };
    case 'fixed':
      return { status: 'resolved', owner: 'unassigned', resolution: 'fixed' };
    case 'wontfix':
      return { status: 'closed', owner: 'unassigned', resolution: 'wontfix' };
    case 'assign':
      return { status: 'in-progress', owner: d.person.handle };
    case 'waiting':
      return { status: 'waiting', owner: 'unassigned' };
  }
}

function sentence(rng: ReturnType<typeof familyRng>, id: string, d: Decision): string {
  switch (d.kind) {
    case 'duplicate':
      return rng.pick([`${id} is the same bug as ${d.of}, close it as a duplicate.`, `Everyone agreed ${id} duplicates ${d.of}.`]);
    case 'fixed':
      return rng.pick([`${id} was fixed by yesterday's release, mark it resolved.`, `The fix for ${id} shipped in 4.12 — resolved.`]);
    case 'wontfix':
      return rng.pick([`${id}: works as designed, we won't fix it; close it.`, `No appetite for ${id}, closing as won't fix.`]);
    case 'assign':
      return rng.pick([`${d.person.first} picks up ${id} and starts today.`, `${id} goes to ${d.person.first}, who is starting on it now.`]);
    case 'waiting':
      return rng.pick([`${id} can't be reproduced; we asked the reporter for a screen recording and wait.`, `Waiting on the customer for logs before we can do anything on ${id}.`]);
  }
}

export function ticketTriageTask(variant: number, count: number): Task {
  const rng = familyRng('ticket-triage', variant);
  const titles = sample(rng, TITLES, count + 4);
  const tickets: Ticket[] = titles.map((title, i) => ({
    id: `T-${String(100 + i * 3 + rng.int(0, 3)).padStart(3, '0')}`,
    title,
    priority: rng.pick(['p1', 'p2', 'p3']),
    body: `Reported by a customer on ${rng.pick(['web', 'iOS', 'Android', 'the API'])}.\n\n${title}. Steps: open the page, try again, same result.`,
  }));
  const discussed = tickets.slice(0, count);
  const untouched = tickets.slice(count);
  const decisions = new Map<string, Decision>();
  discussed.forEach((t, i) => {
    const kinds = ['duplicate', 'fixed', 'wontfix', 'assign', 'waiting'] as const;
    const kind = kinds[i % kinds.length] as (typeof kinds)[number];
    if (kind === 'duplicate') decisions.set(t.id, { kind, of: (untouched[i % untouched.length] as Ticket).id });
    else if (kind === 'assign') decisions.set(t.id, { kind, person: rng.pick(PEOPLE) });
    else decisions.set(t.id, { kind });
  });

  const files: Record<string, string> = {};
  for (const t of tickets) files[`tickets/${t.id}.md`] = render(t, { status: 'open', owner: 'unassigned' });
  files['team.md'] = ['# Team', '', ...PEOPLE.map((p) => `- ${p.full} — handle \`${p.handle}\``), ''].join('\n');
  const notes = rng.shuffle(discussed).map((t) => `- ${sentence(rng, t.id, decisions.get(t.id) as Decision)}`);
  files['triage/2026-02-02.md'] = ['# Triage, Monday 2 Feb', '', 'Attendees: Priya, Jonas, Amara, Diego, Mei', '', ...notes, '', `Not discussed: ${untouched.map((t) => t.id).join(', ')} (next week).`, ''].join('\n');
  files['tickets/CONVENTIONS.md'] = [
    'Front matter fields: id, title, status, owner, priority (and resolution when closed/resolved).',
    'status: open | in-progress | waiting | resolved | closed',
    'owner: a team handle from team.md, or unassigned',
    'resolution (only for resolved/closed): fixed | wontfix | duplicate of T-NNN',
    '',
  ].join('\n');

  const checks: JsonObject[] = discussed.map((t) => {
    const front = outcome(decisions.get(t.id) as Decision);
    return {
      check: 'file_contains',
      name: `${t.id} triaged`,
      path: `tickets/${t.id}.md`,
      regex: Object.entries(front).map(([k, v]) => `^${k}:\\s*${reEscape(v)}\\s*$`),
      noneRegex: front.resolution ? [] : ['^resolution:'],
      all: [`id: ${t.id}`, `title: ${t.title}`, `priority: ${t.priority}`, ...t.body.split('\n').filter(Boolean)],
    };
  });
  checks.push({ check: 'files_unchanged_except', except: discussed.map((t) => `tickets/${t.id}.md`) });

  const steps = [step('read_file', { path: 'triage/2026-02-02.md' }), step('read_file', { path: 'team.md' }), step('read_file', { path: 'tickets/CONVENTIONS.md' })];
  for (const t of discussed) steps.push(step('write_file', { path: `tickets/${t.id}.md`, content: render(t, outcome(decisions.get(t.id) as Decision)) }));
  steps.push(step('submit', {}));

  return familyTask({
    id: `ticket-triage-${count}`,
    instruction:
      'Apply the decisions from the triage meeting (triage/2026-02-02.md) to the ticket files in tickets/: update the front ' +
      'matter of every discussed ticket (status, owner, and resolution where it applies) following tickets/CONVENTIONS.md; ' +
      'owners are written as their handle from team.md. Do not touch tickets that were not discussed or any other file.',
    files,
    checks,
    steps,
    difficulty: 'hard',
    labels: ['tickets', 'long-horizon', 'read-prose', 'per-file-values'],
    family: { name: 'ticket-triage', params: { variant, count } },
  });
}
