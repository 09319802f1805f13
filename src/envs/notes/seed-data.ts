// Invented people, companies and prose for the seeded background workspace.
import { ME, type MemberRow } from './schema.ts';

export const ROSTER: MemberRow[] = [
  { ...ME },
  { id: 'u-priya', name: 'Priya Raman', email: 'priya.raman@larkspur.example', team: 'Engineering' },
  { id: 'u-marcus', name: 'Marcus Lindqvist', email: 'marcus.lindqvist@larkspur.example', team: 'Engineering' },
  { id: 'u-sam-w', name: 'Sam Whitfield', email: 'sam.whitfield@larkspur.example', team: 'Security' },
  { id: 'u-sam-c', name: 'Sam Castellano', email: 'sam.castellano@larkspur.example', team: 'Sales' },
  { id: 'u-samira', name: 'Samira Haddad', email: 'samira.haddad@larkspur.example', team: 'Design' },
  { id: 'u-elena', name: 'Elena Varga', email: 'elena.varga@larkspur.example', team: 'Finance' },
  { id: 'u-tomas', name: 'Tomás Ibarra', email: 'tomas.ibarra@larkspur.example', team: 'Engineering' },
  { id: 'u-hana', name: 'Hana Kobayashi', email: 'hana.kobayashi@larkspur.example', team: 'Design' },
  { id: 'u-devika', name: 'Devika Menon', email: 'devika.menon@larkspur.example', team: 'Data' },
  { id: 'u-oliver', name: 'Oliver Brandt', email: 'oliver.brandt@larkspur.example', team: 'Operations' },
  { id: 'u-aisha', name: 'Aisha Bello', email: 'aisha.bello@larkspur.example', team: 'People' },
  { id: 'u-chen', name: 'Chen Wei', email: 'chen.wei@larkspur.example', team: 'Engineering' },
  { id: 'u-lucia', name: 'Lucía Ferreira', email: 'lucia.ferreira@larkspur.example', team: 'Marketing' },
  { id: 'u-jonah', name: 'Jonah Pierce', email: 'jonah.pierce@larkspur.example', team: 'Support' },
  { id: 'u-nadia', name: 'Nadia Petrova', email: 'nadia.petrova@larkspur.example', team: 'Legal' },
  { id: 'u-kofi', name: 'Kofi Mensah', email: 'kofi.mensah@larkspur.example', team: 'Engineering' },
  { id: 'u-ingrid', name: 'Ingrid Solberg', email: 'ingrid.solberg@larkspur.example', team: 'Product' },
];

export const COLLEAGUE_IDS = ROSTER.filter((m) => m.id !== ME.id).map((m) => m.id);

export const CUSTOMERS = ['Bramblecrest Foods', 'Quillon Freight', 'Osprey Dental Group', 'Meridian Tile Co', 'Vantor Labs', 'Hollowbrook Insurance', 'Tidewater Outfitters', 'Kestrel Biosciences'];

/** Wiki pages: a title and lines in the fixture shorthand; `{n}` is replaced by a seeded number. */
export const WIKI_TOPICS: { title: string; lines: string[] }[] = [
  { title: 'Engineering handbook', lines: ['# How we work', 'Small pull requests, reviewed within one working day.', '- Trunk-based development with feature flags', '- Every service has an owner listed in the service catalogue', '# Environments', 'Staging is refreshed from anonymised production data every {n} days.'] },
  { title: 'Expense policy', lines: ['Meals while travelling are reimbursed up to ${n} per day.', '- Submit receipts within 30 days', '- Economy class for flights under 6 hours', 'Questions go to the Finance channel.'] },
  { title: 'Release process', lines: ['# Cadence', 'We release the web app every Tuesday and Thursday.', '[ ] Freeze the release branch at 10:00', '[ ] Run the smoke suite ({n} checks)', '[ ] Post the changelog in #releases'] },
  { title: 'Release process (draft)', lines: ['Draft — superseded, kept for history.', 'We used to release on Mondays only.'] },
  { title: 'Code review guidelines', lines: ['Review for correctness first, style last.', '- Leave a summary comment', '- Approve with nits when they are truly optional', 'Median review time last quarter: {n} hours.'] },
  { title: 'Security practices', lines: ['# Access', 'Hardware keys are required for production access.', '- Rotate personal tokens every {n} days', '- Report phishing to the Security team'] },
  { title: 'Design principles', lines: ['1. Clarity over cleverness', '2. Every screen has one primary action', '3. Accessible colour contrast (AA at minimum)', 'Figma library version {n} is the current one.'] },
  { title: 'Office guide — Lisbon', lines: ['The Lisbon office is on the 4th floor.', '- Door code changes monthly; ask Operations', '- Lunch is catered on Wednesdays', 'Desk booking opens {n} days ahead.'] },
  { title: 'Brand voice', lines: ['Plain words, short sentences, no exclamation marks.', '- Say "you", not "the user"', '- Numbers as digits'] },
  { title: 'Incident response', lines: ['# Severity levels', '- SEV1: customer-facing outage', '- SEV2: degraded service', '- SEV3: internal only', 'Page the incident commander within {n} minutes of a SEV1.'] },
  { title: 'Support macros', lines: ['Macros live in the helpdesk; this page lists the {n} most used.', '- Password reset', '- Refund request', '- Data export'] },
  { title: 'Data retention policy', lines: ['Customer event data is kept for {n} months, then aggregated.', 'Backups are kept for 35 days.', 'Legal holds override the schedule.'] },
  { title: 'Travel policy', lines: ['Book through the travel portal.', '- Hotels up to {n} EUR per night in Europe', '- Rail over air for trips under 4 hours'] },
  { title: 'Interview process', lines: ['# Stages', '- Recruiter screen', '- Technical interview', '- Team conversation', 'Decisions within {n} working days.'] },
  { title: 'Quarterly planning process', lines: ['Planning starts {n} weeks before the quarter.', '[ ] Teams draft OKRs', '[ ] Leads review dependencies', '[ ] Publish the plan'] },
  { title: 'Glossary', lines: ['- ARR: annual recurring revenue', '- NRR: net revenue retention', '- SLO: service level objective', 'Last reviewed {n} weeks ago.'] },
  { title: 'Tooling and access', lines: ['Request access through the IT portal.', '- Notes workspace: everyone', '- Warehouse: Data team and approved analysts', 'Licences are reviewed every {n} months.'] },
  { title: 'Onboarding', lines: ['# First week', '[ ] Laptop and accounts', '[ ] Meet your buddy', '[ ] Read the engineering handbook', 'Buddy check-ins every {n} days.'] },
  { title: 'Onboarding (old)', lines: ['Outdated — see Onboarding.', '[ ] Fax your forms to HR'] },
];

export const MEETING_KINDS = ['Weekly product sync', 'Eng standup notes', 'Design critique', 'Sprint retro', 'Customer call', 'Pricing working group', 'Hiring sync'];

export const NOTE_LINES = [
  'Agreed to revisit the onboarding funnel after the next release.',
  'Churn in the SMB segment is flat quarter over quarter.',
  'The analytics export is slower than expected for large accounts.',
  'Support volume dropped after the help-centre redesign.',
  'We will pilot the new pricing page with a small cohort first.',
  'Legal asked for a review of the data processing addendum.',
  'Mobile crash rate is below the target for the third week.',
  'Design wants one more round of usability tests.',
  'Hiring for the platform team is behind plan by two roles.',
  'The partner API needs rate limits before general availability.',
  'Infra costs rose because of the new search cluster.',
  'Customer asked for single sign-on and audit logs.',
  'We should document the escalation path for enterprise tickets.',
  'The beta feedback form had a low response rate.',
];

export const ACTION_LINES = [
  'Draft the follow-up email',
  'Share the dashboard link',
  'Book a usability session',
  'Update the FAQ',
  'Check the invoice totals',
  'Write up the decision log',
  'Ping Legal about the addendum',
  'Collect quotes from two vendors',
];

export const ROADMAP_ITEMS = ['Bulk import', 'Audit log export', 'Dark mode', 'Usage-based billing', 'Slack digest', 'Custom roles', 'Offline drafts', 'Webhooks v2', 'Search filters', 'Mobile widgets', 'Sandbox workspaces', 'Smart reminders', 'CSV templates', 'Two-way calendar sync', 'Approval flows'];
