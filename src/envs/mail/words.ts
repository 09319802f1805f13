// Word lists for background mail. Every name, company and publication here is invented, and none
// is used by a task's own fixtures, so background mail never competes with what a task asks about.

/** First names; some pairs are close on purpose (people mix them up, so should the agent be careful). */
export const FIRST_NAMES = [
  'Alex', 'Alexa', 'Bea', 'Caspar', 'Delphine', 'Emeka', 'Fenna', 'Gideon', 'Hollis', 'Iona',
  'Jasper', 'Kasia', 'Leandro', 'Maren', 'Niall', 'Odile', 'Pavel', 'Quinn', 'Rosalind', 'Soren',
  'Tamsin', 'Ulrich', 'Vesna', 'Wendell', 'Yusra', 'Zeno', 'Anneke', 'Bartosz', 'Cleo', 'Dorian',
  'Elodie', 'Farid', 'Greer', 'Hamish', 'Isolde', 'Jovan',
] as const;

export const LAST_NAMES = [
  'Moreno', 'Morena', 'Achterberg', 'Blackwood', 'Castellan', 'Drummond', 'Eskildsen', 'Farrow',
  'Galloway', 'Haverkamp', 'Iversen', 'Jankowski', 'Kettleby', 'Lindqvist', 'Lindquist', 'Mbeki',
  'Nakamura', 'Oyelaran', 'Pellegrini', 'Quarles', 'Rasmussen', 'Saltonstall', 'Thorburn', 'Uddin',
  'Valcourt', 'Whitlock', 'Yardley', 'Zielinski',
] as const;

export interface Organisation {
  name: string;
  domain: string;
}

/** Partner and customer organisations for external correspondence. */
export const PARTNERS: readonly Organisation[] = [
  { name: 'Greyfen Logistics', domain: 'greyfen.example' },
  { name: 'Tallowmere Foods', domain: 'tallowmere.example' },
  { name: 'Ostrander & Vale', domain: 'ostrandervale.example' },
  { name: 'Pinecrest Clinics', domain: 'pinecrest-clinics.example' },
  { name: 'Saltmarsh Energy', domain: 'saltmarsh-energy.example' },
  { name: 'Bellweather Schools', domain: 'bellweather.example' },
  { name: 'Corvid Analytics', domain: 'corvid.example' },
  { name: 'Duneside Hotels', domain: 'duneside.example' },
];

export interface Publication {
  name: string;
  address: string;
  topics: readonly string[];
}

export const NEWSLETTERS: readonly Publication[] = [
  { name: 'The Lantern Dispatch', address: 'dispatch@lantern-news.example', topics: ['city planning', 'night markets', 'tram lines'] },
  { name: 'Foldline Digest', address: 'digest@foldline.example', topics: ['paper craft', 'bookbinding', 'print fairs'] },
  { name: 'Compiler Corner', address: 'hello@compilercorner.example', topics: ['type systems', 'build caching', 'linkers'] },
  { name: 'Weekend Gardener', address: 'letters@weekendgardener.example', topics: ['tomato blight', 'compost', 'pruning roses'] },
  { name: 'Product Notes Weekly', address: 'notes@productnotes.example', topics: ['roadmaps', 'pricing pages', 'onboarding flows'] },
  { name: 'The Commute', address: 'news@thecommute.example', topics: ['cycling lanes', 'rail fares', 'e-scooters'] },
];

export interface Service {
  name: string;
  address: string;
  subjects: readonly string[];
  bodies: readonly string[];
}

/** Automated senders: notifications the user gets every day and mostly ignores. */
export const SERVICES: readonly Service[] = [
  {
    name: 'Trackwise',
    address: 'notifications@trackwise.example',
    subjects: ['{person} assigned you a card', 'Card moved to Done: {topic}', 'Weekly board summary'],
    bodies: ['{person} assigned you "{topic}" on the {project} board.', 'The card "{topic}" was moved to Done by {person}.', 'This week on {project}: 7 cards moved, 3 added, 1 archived.'],
  },
  {
    name: 'Pipewright CI',
    address: 'builds@pipewright.example',
    subjects: ['Build passed: {project} main', 'Build failed: {project} feature branch', 'Deploy finished: {project} staging'],
    bodies: ['All 214 checks passed on main for {project}.', 'A test in {project} failed on the feature branch pushed by {person}. The main branch is unaffected.', 'Staging for {project} was updated by {person}.'],
  },
  {
    name: 'Slotbook',
    address: 'noreply@slotbook.example',
    subjects: ['Invitation: {topic}', 'Updated invitation: {topic}', 'Reminder: {topic} tomorrow'],
    bodies: ['{person} invited you to "{topic}".', '{person} changed the time of "{topic}".', 'Reminder: "{topic}" starts tomorrow.'],
  },
  {
    name: 'Docshelf',
    address: 'share@docshelf.example',
    subjects: ['{person} shared a document with you', '{person} commented on "{topic}"'],
    bodies: ['{person} shared "{topic}" with you. Open it in Docshelf to read it.', '{person} left a comment on "{topic}": looks good to me overall.'],
  },
  {
    name: 'Northwind IT',
    address: 'it-notices@northwind.example',
    subjects: ['Scheduled maintenance this weekend', 'New sign-in to your account', 'Your laptop is due for an update'],
    bodies: ['The VPN will be unavailable on Saturday between 06:00 and 08:00.', 'We noticed a new sign-in from a laptop in the office. If this was you, no action is needed.', 'Please restart your laptop this week to finish installing updates.'],
  },
];

/** Internal projects in background chatter (task fixtures use other names). */
export const PROJECTS = ['Bramble', 'Cobalt', 'Driftwood', 'Ember', 'Fjord', 'Granite', 'Hollowbrook', 'Larkspur'] as const;

export const TOPICS = [
  'quarterly planning deck', 'onboarding checklist', 'API rate limits', 'office seating plan',
  'customer interview notes', 'hiring loop feedback', 'retro action items', 'release notes draft',
  'vendor shortlist', 'analytics dashboard', 'holiday rota', 'team lunch',
] as const;

export const DAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday'] as const;

/** Colleague thread openers: subject and body templates filled from the lists above. */
export const THREAD_TEMPLATES: readonly { subject: string; body: string }[] = [
  { subject: '{project}: {topic}', body: 'Hi Robin,\n\nCould you take a look at the {topic} for {project} before {day}? I left a few questions in the doc.\n\nThanks,\n{first}' },
  { subject: 'Quick question about the {topic}', body: 'Hey,\n\nDo you know who owns the {topic} now? I want to check a couple of numbers before {day}.\n\n{first}' },
  { subject: '{topic} for {day}', body: 'Hi all,\n\nI put together the {topic} for {day}. Comments welcome, especially on the second section.\n\nBest,\n{first}' },
  { subject: 'Re-scheduling our {project} sync', body: 'Hi Robin,\n\nSomething came up. Can we move our {project} sync to {day} afternoon?\n\nCheers,\n{first}' },
  { subject: '{project} status', body: 'Hi,\n\nShort update on {project}: the {topic} is done and we are on track for the next milestone.\n\n{first}' },
  { subject: 'Feedback on the {topic}', body: 'Robin,\n\nI read the {topic}. Mostly good; I would cut the appendix and move the summary up.\n\n{first}' },
];

export const REPLY_BODIES = [
  'Thanks, that works for me.',
  'Sounds good. I will look at it on {day}.',
  'Got it, thanks for the heads-up.',
  'Can we talk it through quickly on {day}?',
  'Agreed. Let us go with the second option.',
  'I added my comments, mostly small things.',
] as const;

export const PARTNER_TEMPLATES: readonly { subject: string; body: string }[] = [
  { subject: 'Intro call with {org}', body: 'Hello Robin,\n\nI lead partnerships at {org}. Would you have 20 minutes on {day} for an intro call?\n\nKind regards,\n{first} {last}\n{org}' },
  { subject: 'Follow-up from our meeting', body: 'Hi Robin,\n\nThanks for meeting us last week. As promised, I am sending over the {topic}.\n\nBest,\n{first} {last}\n{org}' },
  { subject: '{org} — feedback on the pilot', body: 'Dear Robin,\n\nOur team has been using the pilot for a month. Overall very positive; a few notes on the {topic} attached.\n\n{first} {last}' },
  { subject: 'Conference panel invitation', body: 'Hi Robin,\n\n{org} is hosting a small panel on {day} about {topic}. Would you like to join as a speaker?\n\nWarmly,\n{first} {last}' },
];
