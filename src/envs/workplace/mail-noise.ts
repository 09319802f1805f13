import type { EpisodeContext } from '../define.ts';
import { insertContact, insertFixtureMessage, ME as MAIL_OWNER, MessageFixture } from '../mail/index.ts';
import { COLLEAGUES, ME, OUTSIDE_FIRST, OUTSIDE_LAST, PARTNER_ORGS } from './people.ts';

// Background mail from the same company as the other apps (the mail environment's own background
// is another company's, so the workplace writes its own).

const COLLEAGUE_MAIL = [
  { subject: 'Quick question about the {project} timeline', body: 'Hi Robin,\n\nDo you know if the {project} milestones moved? The tracker still shows the old dates.\n\nThanks,\n{first}' },
  { subject: 'Slides for {day}', body: 'Robin, attaching a link to the draft slides for {day}. Comments welcome before noon.\n\n{first}' },
  { subject: 'FYI: {project} customer feedback', body: 'Sharing a few quotes from last week\'s interviews about {project}. Nothing actionable yet.\n\n{first}' },
  { subject: 'Re: hiring loop', body: 'Thanks for the feedback on the candidate. I have added my notes to the scorecard.\n\n{first}' },
  { subject: 'Offsite ideas', body: 'Collecting ideas for the team offsite. Reply if you have a venue in mind — no pressure.\n\n{first}' },
  { subject: 'Access request for the {project} dashboard', body: 'Could you approve my access request when you have a minute? It is in the IT portal.\n\n{first}' },
];

const PARTNER_MAIL = [
  { subject: '{org}: monthly account summary', body: 'Hello Robin,\n\nYour monthly summary from {org} is ready. Usage is in line with your plan.\n\nBest regards,\n{first} {last}\n{org}' },
  { subject: 'Following up on our call', body: 'Hi Robin,\n\nGreat speaking last week. As promised, a short note on next steps from the {org} side; happy to find time whenever suits.\n\n{first}' },
  { subject: 'Updated terms from {org}', body: 'Dear customer,\n\nWe have updated our terms of service. No action is needed.\n\n{org}' },
];

const NOTIFICATIONS = [
  { from: 'no-reply@expenses.larkspur.example', fromName: 'Expenses', subject: 'Your expense report was approved', body: 'Report #{n} has been approved and will be paid in the next cycle.' },
  { from: 'it-helpdesk@larkspur.example', fromName: 'IT Helpdesk', subject: 'Scheduled maintenance {day}', body: 'The VPN will be unavailable for 30 minutes on {day} evening.' },
  { from: 'digest@notes.larkspur.example', fromName: 'Notes digest', subject: 'Pages updated in your workspace', body: 'Pages you follow were updated this week: Team wiki, Meeting notes, Projects.' },
  { from: 'news@theproductbrief.example', fromName: 'The Product Brief', subject: 'The Product Brief — pricing pages that work', body: 'This week: pricing pages that convert, a teardown of three onboarding flows, and reader questions.' },
];

const PROJECTS = ['Billing v2', 'Search revamp', 'Mobile offline', 'Data export', 'SSO', 'Usage dashboard'];
const DAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday'];

function fill(text: string, vars: Record<string, string>): string {
  return text.replace(/\{(\w+)\}/g, (whole, key: string) => vars[key] ?? whole);
}

/** Colleagues as contacts (not all of them: chat and the calendar directory have everyone), partners, and background mail. */
export function seedWorkplaceMail(ctx: EpisodeContext, range: { min: number; max: number }): void {
  const rng = ctx.rng.fork('workplace-mail');
  const { db } = ctx;
  const known = (email: string) => db.prepare('SELECT 1 FROM contacts WHERE email = ?').get(email) !== undefined;
  const colleagues = COLLEAGUES.filter((c) => c.id !== ME.id);
  for (const c of colleagues) if (rng.next() < 0.6 && !known(c.email)) insertContact(ctx, { name: c.name, email: c.email, company: 'Larkspur', phone: '', notes: c.team });
  const partners = PARTNER_ORGS.map((org) => {
    const first = rng.pick(OUTSIDE_FIRST);
    const last = rng.pick(OUTSIDE_LAST);
    return { org: org.name, first, last, email: `${first}.${last}@${org.domain}`.toLowerCase() };
  });
  for (const p of partners) if (!known(p.email)) insertContact(ctx, { name: `${p.first} ${p.last}`, email: p.email, company: p.org, phone: `+44 20 7946 ${String(rng.int(0, 10000)).padStart(4, '0')}`, notes: '' });
  const count = rng.int(range.min, range.max + 1);
  for (let i = 0; i < count; i++) {
    const roll = rng.next();
    const vars = { project: rng.pick(PROJECTS), day: rng.pick(DAYS), n: String(rng.int(1000, 9999)) };
    const hoursAgo = rng.int(2, 24 * 30);
    let fixture: MessageFixture;
    if (roll < 0.45) {
      const who = rng.pick(colleagues);
      const t = rng.pick(COLLEAGUE_MAIL);
      const v = { ...vars, first: who.name.split(' ')[0]! };
      fixture = MessageFixture.parse({ from: who.email, fromName: who.name, subject: fill(t.subject, v), body: fill(t.body, v), hoursAgo, read: rng.next() < 0.6 });
    } else if (roll < 0.6) {
      const who = rng.pick(colleagues);
      fixture = MessageFixture.parse({ from: MAIL_OWNER.email, to: [who.email], subject: `Re: ${fill(rng.pick(COLLEAGUE_MAIL).subject, vars)}`, body: `Thanks ${who.name.split(' ')[0]!} — will take a look today.\n\nRobin`, hoursAgo });
    } else if (roll < 0.8) {
      const p = rng.pick(partners);
      const t = rng.pick(PARTNER_MAIL);
      const v = { ...vars, org: p.org, first: p.first, last: p.last };
      fixture = MessageFixture.parse({ from: p.email, fromName: `${p.first} ${p.last}`, subject: fill(t.subject, v), body: fill(t.body, v), hoursAgo, read: rng.next() < 0.5 });
    } else {
      const n = rng.pick(NOTIFICATIONS);
      fixture = MessageFixture.parse({ from: n.from, fromName: n.fromName, subject: fill(n.subject, vars), body: fill(n.body, vars), hoursAgo, read: rng.next() < 0.7, folder: hoursAgo > 24 * 14 && rng.next() < 0.5 ? 'archive' : undefined });
    }
    insertFixtureMessage(ctx, fixture, 'workplace background mail');
  }
}
