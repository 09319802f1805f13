import { createRng, type JsonObject, type Task, type ToolInvocation } from '../../../core/index.ts';
import type { EventFixture } from '../fixtures.ts';
import { P, PEOPLE } from '../people.ts';
import { fromLocal, parseClock } from '../tz.ts';
import { bookFirstSlot, calendarTask, london, planningWorld, step, utc } from './common.ts';

const nameOf = (email: string): string => PEOPLE.find((p) => p.email === email)?.name ?? email;

/** A few busy blocks per person inside their working day, so the first free slot is not the obvious one. */
function busyBlocks(slug: string, emails: string[], days: string[]): EventFixture[] {
  const rng = createRng(`calendar:${slug}:busy`);
  const events: EventFixture[] = [];
  for (const email of emails) {
    const p = PEOPLE.find((x) => x.email === email)!;
    for (let i = 0; i < rng.int(3, 6); i++) {
      const day = rng.pick(days);
      const startMin = parseClock(p.work_start) + rng.int(0, Math.max(1, (parseClock(p.work_end) - parseClock(p.work_start) - 60) / 30)) * 30;
      const [y, m, d] = day.split('-').map(Number) as [number, number, number];
      const start = fromLocal({ year: y, month: m, day: d, hour: Math.floor(startMin / 60), minute: startMin % 60 }, p.time_zone);
      events.push({ id: `${slug}-busy-${events.length + 1}`, title: rng.pick(['Customer call', 'Team sync', 'Deep work', 'Planning', 'Interview panel', 'Vendor meeting']), organizer: email, start: new Date(start).toISOString(), duration_minutes: rng.pick([30, 60, 90]) });
    }
  }
  return events;
}

interface OneOnOneVariant {
  slug: string;
  week: string;
  people: string[];
  note: string;
  minutes?: number;
}

const ONE_ON_ONES: OneOnOneVariant[] = [
  { slug: 'one-on-ones-week-of-23-march', week: '2026-03-23', people: [P.jonah, P.samW, P.tomas, P.lucia, P.kofi, P.aisha, P.samira, P.devika, P.marcus, P.elena], note: 'The US is already on summer time that week; Europe is not.' },
  { slug: 'one-on-ones-week-of-30-march', week: '2026-03-30', people: [P.hana, P.chen, P.ingrid, P.oliver, P.nadia, P.samC, P.jonah, P.priya, P.ana, P.devika], note: 'London is on summer time (BST) from 29 March.' },
  { slug: 'skip-level-one-on-ones-mid-april', week: '2026-04-13', minutes: 45, people: [P.kofi, P.aisha, P.samira, P.marcus, P.elena, P.tomas, P.lucia, P.samW, P.chen, P.jonas], note: 'These are skip-level conversations, so make each one 45 minutes.' },
];

/** Ten 1:1s in one week, each inside both people's working hours and clear of both calendars. */
function oneOnOnesTask(v: OneOnOneVariant): Task {
  const minutes = v.minutes ?? 30;
  const from = utc(`${v.week}T00:00:00Z`);
  const to = from + 5 * 86_400_000;
  const days = [0, 1, 2, 3, 4].map((i) => new Date(from + i * 86_400_000).toISOString().slice(0, 10));
  const fixtures = { events: busyBlocks(v.slug, v.people, days), keep_free: [{ people: [P.me, ...v.people], start: new Date(from - 86_400_000).toISOString(), end: new Date(to + 86_400_000).toISOString() }] };
  const world = planningWorld(fixtures);
  const window = { window_start: london(from), window_end: london(to) };
  const steps: ToolInvocation[] = [step('list_people', {})];
  for (const email of v.people) {
    const first = nameOf(email).split(' ')[0]!;
    const slot = bookFirstSlot(world, { id: `plan-${email}`, title: `1:1: Robin / ${first}`, attendees: [email], from, to, minutes });
    steps.push(step('find_free_slots', { attendees: [email], duration_minutes: minutes, ...window, limit: 5 }), step('create_event', { title: `1:1: Robin / ${first}`, start: london(slot.start), end: london(slot.end), attendees: [email] }));
  }
  world.close();
  steps.push(step('submit', {}));
  const checks: JsonObject[] = v.people.map((email) => ({
    check: 'event_exists',
    name: `1:1 with ${nameOf(email)}`,
    attendees: [email],
    exact_attendees: true,
    duration_minutes: minutes,
    after: new Date(from).toISOString(),
    before: new Date(to).toISOString(),
    within_working_hours: true,
    no_conflicts: true,
  }));
  checks.push({ check: 'calendar_unchanged', may_create: v.people.length });
  return calendarTask({
    slug: v.slug,
    instruction: `Set up a ${minutes}-minute 1:1 with each of these people during the week of ${v.week} (Monday to Friday): ${v.people.map(nameOf).join(', ')}. Each one must be inside both my working hours and theirs, in each person's own time zone, and must not clash with anything either of us already has (including the other 1:1s). Invite only that person, and title them "1:1: Robin / <first name>". ${v.note}`,
    difficulty: 'hard',
    labels: ['scheduling', 'time-zones', 'working-hours', 'long-horizon', ...(v.week === '2026-03-30' ? ['dst'] : [])],
    fixtures,
    checks,
    steps,
    family: { name: 'one-on-ones', params: { week: v.week, people: v.people.length, minutes } },
  });
}

const CANDIDATES = [
  { name: 'Mateo Alvarez', email: 'mateo.alvarez@mailbox.example', day: '2026-03-24' },
  { name: 'Freya Lindgren', email: 'freya.lindgren@postbox.example', day: '2026-03-25' },
  { name: 'Tunde Adeyemi', email: 'tunde.adeyemi@inbox.example', day: '2026-03-26' },
  { name: 'Yuki Tanaka', email: 'yuki.tanaka@mailbox.example', day: '2026-03-27' },
];
const STAGES = ['Intro', 'Technical', 'System design', 'Product sense', 'Values'];
const PANEL = [P.priya, P.marcus, P.kofi, P.aisha, P.oliver, P.elena, P.ingrid, P.ana, P.nadia];

/** Four candidates, five 45-minute interviews each on their day: interviewer, candidate and you all free. */
function interviewLoopTask(): Task {
  const rng = createRng('calendar:interview-loops');
  const loops = CANDIDATES.map((c) => ({ ...c, panel: rng.shuffle(PANEL).slice(0, STAGES.length) }));
  const days = CANDIDATES.map((c) => c.day);
  const fixtures = {
    people: CANDIDATES.map((c) => ({ email: c.email, name: c.name, team: 'Candidate', time_zone: 'Europe/London', external: true })),
    events: busyBlocks('interviews', PANEL, days),
    keep_free: [{ people: [P.me, ...PANEL], start: '2026-03-23T00:00:00Z', end: '2026-03-28T00:00:00Z' }],
  };
  const world = planningWorld(fixtures);
  const steps: ToolInvocation[] = [];
  const checks: JsonObject[] = [];
  for (const loop of loops) {
    const from = fromLocal({ year: 2026, month: 3, day: Number(loop.day.slice(8)), hour: 9, minute: 0 }, 'Europe/London');
    const to = fromLocal({ year: 2026, month: 3, day: Number(loop.day.slice(8)), hour: 17, minute: 30 }, 'Europe/London');
    // Greedy booking can paint itself into a corner on a busy day: retry other stage orders.
    let booked: { i: number; slot: { start: number; end: number } }[] | undefined;
    for (let attempt = 0; attempt < 60 && !booked; attempt++) {
      const order = attempt === 0 ? STAGES.map((_, i) => i) : rng.shuffle(STAGES.map((_, i) => i));
      world.exec('SAVEPOINT plan');
      try {
        booked = order.map((i) => ({ i, slot: bookFirstSlot(world, { id: `plan-${loop.email}-${i}`, title: STAGES[i]!, attendees: [loop.panel[i]!, loop.email], from, to, minutes: 45, step: 15 }) }));
        world.exec('RELEASE plan');
      } catch {
        world.exec('ROLLBACK TO plan');
        world.exec('RELEASE plan');
      }
    }
    if (!booked) throw new Error(`no interview plan for ${loop.name}`);
    for (const { i, slot } of booked) {
      const interviewer = loop.panel[i]!;
      const title = `Interview: ${loop.name} — ${STAGES[i]}`;
      steps.push(step('find_free_slots', { attendees: [interviewer, loop.email], duration_minutes: 45, window_start: london(from), window_end: london(to), step_minutes: 15, limit: 3 }), step('create_event', { title, start: london(slot.start), end: london(slot.end), attendees: [interviewer, loop.email] }));
      checks.push({ check: 'event_exists', name: `${loop.name} ${STAGES[i]}`, title_contains: [loop.name.split(' ')[0]!], attendees: [interviewer, loop.email], exact_attendees: true, duration_minutes: 45, after: new Date(from).toISOString(), before: new Date(to).toISOString(), within_working_hours: true, no_conflicts: true });
    }
  }
  world.close();
  steps.push(step('submit', {}));
  checks.push({ check: 'calendar_unchanged', may_create: loops.length * STAGES.length });
  const table = loops.map((l) => `${l.name} <${l.email}> on ${l.day}: ${l.panel.map((p, i) => `${STAGES[i]} with ${nameOf(p)}`).join(', ')}`).join('\n');
  return calendarTask({
    slug: 'interview-loops',
    instruction: `Book the onsite interview loops below. Each interview is 45 minutes, on the candidate's day between 09:00 and 17:30 London time, with the interviewer and the candidate invited (I'm the organizer, so I attend too). No one may be double-booked — that includes the candidate, who can't be in two interviews at once — and each interviewer must be within their own working hours. Title each "Interview: <candidate> — <stage>".\n${table}`,
    difficulty: 'hard',
    labels: ['scheduling', 'working-hours', 'external-guests', 'long-horizon'],
    fixtures,
    checks,
    steps,
    family: { name: 'interview-loops', params: { candidates: loops.length, stages: STAGES.length } },
  });
}

export function schedulingTasks(): Task[] {
  return [...ONE_ON_ONES.map(oneOnOnesTask), interviewLoopTask()];
}

