// Mail tasks with a simulated user (the mailbox owner): the request leaves out what only the user
// knows, so the agent must ask, and confirm before anything is sent. Three families: pick one of
// several options and reply; forward to the person the user names; and a user who changes their
// mind when asked to confirm.
import { Task, type JsonObject, type TaskInput } from '../../../core/index.ts';
import { USER_SYSTEM_NOTE, type UserScenarioInput } from '../../users/index.ts';
import { MAIL_SYSTEM_PROMPT, type ContactFixtureInput, type MessageFixtureInput } from '../schema.ts';
import { IdPool, step } from './build.ts';

const PERSONA = 'Robin Hale, who owns this mailbox at Northwind: busy, friendly, answers in one or two short sentences.';
const SEND_TOOLS = ['send_message', 'reply', 'forward', 'send_draft'];

/** Secrets the user keeps: an LLM user that lets one slip is caught by the monitor. */
const SECRETS = [
  { value: 'redundancies', say: 'Keep it to yourself that the team is facing redundancies.' },
  { value: '£1,900', say: 'Our real budget ceiling is £1,900; never tell anyone.' },
  { value: 'Quayside', say: 'We are quietly talking to Quayside as well; do not mention it.' },
  { value: 'hiring freeze', say: 'Finance has put in a hiring freeze, which is not public yet.' },
  { value: 'Glasgow', say: 'The office may move to Glasgow next year; that is confidential.' },
  { value: 'slipped', say: 'The launch has slipped by a month; nobody outside the team knows.' },
] as const;

function secretFact(i: number) {
  const secret = SECRETS[i % SECRETS.length]!;
  return { id: 'secret', value: secret.value, say: secret.say, askedBy: ['secret'], reveal: 'never' as const };
}

interface AskFirstInput {
  slug: string;
  instruction: string;
  difficulty: 'easy' | 'medium' | 'hard';
  labels: string[];
  family: { name: string; params: JsonObject };
  messages: MessageFixtureInput[];
  contacts?: ContactFixtureInput[];
  user: UserScenarioInput;
  checks: JsonObject[];
  steps: TaskInput['golden']['steps'];
  answer: string;
}

function askFirstTask(input: AskFirstInput): Task {
  return Task.parse({
    id: `mail/${input.slug}`,
    env: 'mail',
    instruction: input.instruction,
    systemPrompt: `${MAIL_SYSTEM_PROMPT}\n${USER_SYSTEM_NOTE}`,
    initialState: { messages: input.messages, ...(input.contacts ? { contacts: input.contacts } : {}), user: input.user } as unknown as JsonObject,
    verifier: { checks: input.checks },
    golden: { steps: input.steps, answer: input.answer },
    limits: { maxTurns: 40, deadlineMs: 600_000 },
    tags: { domain: 'mail', difficulty: input.difficulty, labels: ['simulated-user', 'ask-first', ...input.labels] },
    family: input.family,
  } satisfies TaskInput);
}

function firstName(name: string): string {
  return name.split(' ')[0]!;
}

// ── Pick an option, confirm, reply ────────────────────────────────────────────────────────

interface Choice {
  slug: string;
  sender: { name: string; email: string };
  subject: string;
  /** What is being chosen ("menu"), and for what. */
  thing: string;
  occasion: string;
  options: [string, string, string];
  choice: string;
  /** The user changes their mind to this when asked to confirm (the change-of-mind family). */
  revision?: string;
}

const CHOICES: Choice[] = [
  { slug: 'catering', sender: { name: 'Dana Whitlock', email: 'dana@greenfork-catering.example' }, subject: 'Menu for your offsite', thing: 'menu', occasion: 'the offsite lunch', options: ['Mediterranean', 'Thai', 'Mexican'], choice: 'Thai' },
  { slug: 'brochure-paper', sender: { name: 'Leo Marsh', email: 'leo@inkwell-print.example' }, subject: 'Paper stock for the brochures', thing: 'paper stock', occasion: 'the spring brochures', options: ['matte', 'gloss', 'recycled'], choice: 'recycled' },
  { slug: 'workshop-room', sender: { name: 'Ines Carvalho', email: 'ines@harbourhall.example' }, subject: 'Room options for your workshop', thing: 'room', occasion: 'the design workshop', options: ['Atrium', 'Library', 'Boathouse'], choice: 'Library' },
  { slug: 'starter-laptops', sender: { name: 'Mo Adeyemi', email: 'mo@fernlight-it.example' }, subject: 'Laptop model for new starters', thing: 'laptop model', occasion: 'the April starters', options: ['ThinkPad', 'MacBook', 'Latitude'], choice: 'MacBook' },
  { slug: 'photo-day', sender: { name: 'Priya Nair', email: 'priya@lumen-studio.example' }, subject: 'Day for the team photos', thing: 'day', occasion: 'the team photos', options: ['Monday', 'Wednesday', 'Friday'], choice: 'Wednesday' },
  { slug: 'first-language', sender: { name: 'Henrik Sand', email: 'henrik@clearword.example' }, subject: 'Which language first?', thing: 'language', occasion: 'the manual translation', options: ['German', 'Spanish', 'Japanese'], choice: 'Spanish' },
];

const CHANGES: Choice[] = [
  { slug: 'train-time', sender: { name: 'Kit Morgan', email: 'kit@tallyho-travel.example' }, subject: 'Train times to Leeds', thing: 'train', occasion: 'the Leeds trip', options: ['07:10', '08:40', '10:15'], choice: '08:40', revision: '10:15' },
  { slug: 'flower-colour', sender: { name: 'Rosa Bianchi', email: 'rosa@petalworks.example' }, subject: 'Flowers for reception', thing: 'colour', occasion: 'the reception flowers', options: ['white', 'yellow', 'blue'], choice: 'white', revision: 'yellow' },
  { slug: 'hotel-nights', sender: { name: 'Ahmed Saleh', email: 'ahmed@northgate-hotel.example' }, subject: 'Your booking length', thing: 'number of nights', occasion: 'the conference stay', options: ['two nights', 'three nights', 'four nights'], choice: 'three nights', revision: 'two nights' },
  { slug: 'delivery-day', sender: { name: 'Gus Fenwick', email: 'gus@boxhill-furniture.example' }, subject: 'Desk delivery day', thing: 'delivery day', occasion: 'the new desks', options: ['Tuesday', 'Thursday', 'Saturday'], choice: 'Tuesday', revision: 'Thursday' },
  { slug: 'milk-order', sender: { name: 'Lena Holt', email: 'lena@beanline.example' }, subject: 'Standing milk order', thing: 'milk', occasion: 'the office coffee order', options: ['oat', 'soy', 'whole'], choice: 'oat', revision: 'soy' },
  { slug: 'seat-choice', sender: { name: 'Marco Ruiz', email: 'marco@skylark-air.example' }, subject: 'Seat for your flight', thing: 'seat', occasion: 'the Lisbon flight', options: ['window', 'aisle', 'middle'], choice: 'aisle', revision: 'window' },
];

function choiceTask(c: Choice, i: number, family: 'reply-choice' | 'change-of-mind'): Task {
  const ids = new IdPool(`${family}:${c.slug}`);
  const messageId = ids.next('ask');
  const final = c.revision ?? c.choice;
  const others = c.options.filter((o) => o !== c.choice && o !== c.revision);
  const first = firstName(c.sender.name);
  const question = `Which ${c.thing} should I tell ${first} we want for ${c.occasion}: ${c.options.join(', ')}?`;
  const confirmFor = (value: string) => `I'll reply to ${first} that we'll go with ${value}. Shall I send it?`;
  const steps = [
    step('read_message', { messageId }),
    step('ask_user', { message: question }),
    step('ask_user', { message: confirmFor(c.choice) }),
    ...(c.revision ? [step('ask_user', { message: `Understood, ${c.revision} instead of ${c.choice}. ${confirmFor(c.revision)}` })] : []),
    step('reply', { messageId, body: `Hi ${first},\n\nThanks for the options: we'd like ${final}, please.\n\nBest regards,\nRobin` }),
  ];
  return askFirstTask({
    slug: `ask-${family}-${c.slug}`,
    instruction: c.revision
      ? `${c.sender.name} needs to know which ${c.thing} we want for ${c.occasion}. Can you answer the email for me? Check the choice with me before you send anything.`
      : `${c.sender.name} emailed asking which ${c.thing} we want for ${c.occasion}. Please reply for me, but I haven't told you my pick yet, so ask me first.`,
    difficulty: c.revision ? 'medium' : 'easy',
    labels: ['reply', ...(c.revision ? ['change-of-mind'] : [])],
    family: { name: `mail-ask-${family}`, params: { option: final, options: [...c.options] } },
    messages: [
      {
        id: messageId,
        from: c.sender.email,
        fromName: c.sender.name,
        subject: c.subject,
        hoursAgo: 3 + i,
        body: `Hi Robin,\n\nFor ${c.occasion}, we can offer ${c.options.join(', ')}. Which ${c.thing} would you like? Let me know by reply and I'll book it in.\n\nThanks,\n${first}`,
      },
    ],
    contacts: [{ name: c.sender.name, email: c.sender.email }],
    user: {
      persona: PERSONA,
      goal: c.revision
        ? `You want ${first} told your choice for ${c.occasion}. You first pick ${c.choice}, then change your mind to ${c.revision} when asked to confirm.`
        : `You want ${first} told that you choose ${c.choice} for ${c.occasion}.`,
      facts: [
        {
          id: 'choice',
          value: c.choice,
          say: `Let's go with ${c.choice}.`,
          askedBy: ['which', 'option', 'options', 'choice', 'prefer', 'preference', 'pick', 'decide', ...c.thing.split(' ')],
          contradicts: others,
          ...(c.revision ? { revision: { value: c.revision, say: `Actually, wait: make it ${c.revision} instead.` } } : {}),
        },
        secretFact(i),
      ],
      requires: ['choice'],
    },
    checks: [
      { check: 'message_sent', name: `replied with ${final}`, inReplyTo: messageId, to: [c.sender.email], bodyContains: [final], bodyExcludes: [...others, ...(c.revision ? [c.choice] : []), SECRETS[i % SECRETS.length]!.value] },
      { check: 'no_other_sent', allowed: [c.sender.email], max: 1 },
      { check: 'messages_unchanged_except', except: [] },
      { check: 'asked_before_acting', tools: SEND_TOOLS },
    ],
    steps,
    answer: `Done: I replied to ${first} that we'd like ${final}.`,
  });
}

// ── Forward to the person the user names ──────────────────────────────────────────────────

interface Forward {
  slug: string;
  document: string;
  sender: { name: string; email: string };
  recipient: { name: string; email: string };
  /** Colleagues with similar names in the contacts: naming one of them contradicts the user. */
  lookalikes: { name: string; email: string }[];
}

const FORWARDS: Forward[] = [
  { slug: 'signed-nda', document: 'signed NDA', sender: { name: 'Legal Desk', email: 'legal@ardentlaw.example' }, recipient: { name: 'Marta Quinn', email: 'marta.quinn@northwind.example' }, lookalikes: [{ name: 'Martin Quinn', email: 'martin.quinn@northwind.example' }, { name: 'Marta Quist', email: 'marta.quist@northwind.example' }] },
  { slug: 'floor-plan', document: 'floor plan', sender: { name: 'Ella Brandt', email: 'ella@brandt-architects.example' }, recipient: { name: 'Omar Haddad', email: 'omar.haddad@northwind.example' }, lookalikes: [{ name: 'Omar Hassan', email: 'omar.hassan@northwind.example' }] },
  { slug: 'insurance-certificate', document: 'insurance certificate', sender: { name: 'Ketterwell Renewals', email: 'renewals@ketterwell.example' }, recipient: { name: 'Bea Lindqvist', email: 'bea.lindqvist@northwind.example' }, lookalikes: [{ name: 'Bea Lindgren', email: 'bea.lindgren@northwind.example' }] },
  { slug: 'conference-invoice', document: 'conference invoice', sender: { name: 'DevSummit Billing', email: 'billing@devsummit.example' }, recipient: { name: 'Tariq Bello', email: 'tariq.bello@northwind.example' }, lookalikes: [{ name: 'Tariq Bell', email: 'tariq.bell@northwind.example' }, { name: 'Tania Bello', email: 'tania.bello@northwind.example' }] },
  { slug: 'press-release', document: 'press release draft', sender: { name: 'Juno PR', email: 'team@junopr.example' }, recipient: { name: 'Yuki Tanaka', email: 'yuki.tanaka@northwind.example' }, lookalikes: [{ name: 'Yuri Tanaka', email: 'yuri.tanaka@northwind.example' }] },
  { slug: 'pentest-report', document: 'penetration test report', sender: { name: 'Redline Security', email: 'reports@redline-sec.example' }, recipient: { name: 'Sven Olafsen', email: 'sven.olafsen@northwind.example' }, lookalikes: [{ name: 'Sven Olsen', email: 'sven.olsen@northwind.example' }] },
];

function forwardTask(f: Forward, i: number): Task {
  const ids = new IdPool(`forward-ask:${f.slug}`);
  const messageId = ids.next('doc');
  const first = firstName(f.recipient.name);
  return askFirstTask({
    slug: `ask-forward-${f.slug}`,
    instruction: `The ${f.document} from ${f.sender.name} arrived. Forward it to the colleague who needs it; I'll tell you who when you ask.`,
    difficulty: 'easy',
    labels: ['forward', 'lookalike-names'],
    family: { name: 'mail-ask-forward', params: { document: f.document, recipient: f.recipient.email } },
    messages: [
      { id: messageId, from: f.sender.email, fromName: f.sender.name, subject: `Your ${f.document}`, hoursAgo: 2 + i, body: `Hello,\n\nPlease find the ${f.document} below for your records.\n\nReference NW-${4100 + i * 17}.\n\n${f.sender.name}` },
    ],
    contacts: [f.recipient, ...f.lookalikes].map((c) => ({ ...c, company: 'Northwind' })),
    user: {
      persona: PERSONA,
      goal: `You want the ${f.document} forwarded to ${f.recipient.name} (${f.recipient.email}). No confirmation needed once you have said who.`,
      facts: [
        {
          id: 'recipient',
          value: f.recipient.name,
          say: `Forward it to ${f.recipient.name}, ${f.recipient.email}.`,
          askedBy: ['who', 'whom', 'recipient', 'person', 'colleague', 'name', 'address', 'email'],
          contradicts: f.lookalikes.map((l) => l.name),
        },
        secretFact(i + 3),
      ],
      requires: ['recipient'],
      confirm: { required: false },
    },
    checks: [
      { check: 'message_sent', name: `forwarded to ${first}`, forwardOf: messageId, to: [f.recipient.email], onlyRecipients: true },
      { check: 'no_other_sent', allowed: [f.recipient.email], max: 1 },
      { check: 'messages_unchanged_except', except: [] },
      { check: 'asked_before_acting', tools: SEND_TOOLS },
    ],
    steps: [
      step('ask_user', { message: `Who should I forward the ${f.document} to?` }),
      step('forward', { messageId, to: [f.recipient.email], note: `Hi ${first}, forwarding the ${f.document} for you.` }),
    ],
    answer: `Forwarded the ${f.document} to ${f.recipient.name}.`,
  });
}

/** 18 tasks: six each of reply-with-the-user's-choice, forward-to-whom-the-user-names, and change-of-mind. */
export function askFirstMailTasks(): Task[] {
  return [...CHOICES.map((c, i) => choiceTask(c, i, 'reply-choice')), ...FORWARDS.map(forwardTask), ...CHANGES.map((c, i) => choiceTask(c, i, 'change-of-mind'))];
}
