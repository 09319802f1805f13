import type { Task } from '../../../core/index.ts';
import type { MessageFixtureInput } from '../schema.ts';
import { familyTask, IdPool, step } from './build.ts';

interface Publication {
  name: string;
  address: string;
  themes: readonly string[];
}

const PUBLICATIONS: Publication[] = [
  { name: 'The Tidewater Brief', address: 'brief@tidewater.example', themes: ['harbour dredging', 'ferry timetables', 'coastal erosion', 'fish prices', 'marina plans', 'lighthouse repairs', 'storm season'] },
  { name: 'Ledger Weekly', address: 'issues@ledgerweekly.example', themes: ['interest rates', 'audit season', 'small-business loans', 'VAT changes', 'payroll software', 'cash-flow tips', 'bond markets'] },
  { name: 'Quiet Circuits', address: 'hello@quietcircuits.example', themes: ['fanless PCs', 'silent keyboards', 'low-noise PSUs', 'passive cooling', 'quiet NAS builds', 'sound dampening', 'e-ink monitors'] },
  { name: 'Slow Mornings', address: 'letters@slowmornings.example', themes: ['pour-over coffee', 'morning walks', 'bread starters', 'journaling', 'porridge', 'radio plays'] },
  { name: 'Fieldwork Letters', address: 'post@fieldworkletters.example', themes: ['moth surveys', 'hedgerow mapping', 'river sampling', 'bird ringing', 'soil cores'] },
];

function issues(ids: IdPool, pub: Publication, start: number): MessageFixtureInput[] {
  return pub.themes.map((theme, i) => ({
    id: ids.next(`${pub.name}:${i}`),
    from: pub.address,
    fromName: pub.name,
    subject: `${pub.name} #${120 + i}: ${theme}`,
    body: `In this issue of ${pub.name}: ${theme}, letters from readers and the week's short reads.\n\nYou are subscribed to ${pub.name}. Manage your subscription in your reader account.`,
    hoursAgo: start + i * 26,
    read: i % 2 === 0,
  }));
}

/** Archive three newsletters' issues (21 moves), keeping their staff's personal mail. */
function archiveThree(): Task {
  const ids = new IdPool('newsletters:archive-three');
  const pubs = PUBLICATIONS.slice(0, 3);
  const all = pubs.flatMap((p, i) => issues(ids, p, 2 + i * 3));
  const distractors: MessageFixtureInput[] = [
    { id: ids.next('journalist'), from: 'hana.ito@ledgerweekly.example', fromName: 'Hana Ito', subject: 'Interview request for Ledger Weekly', body: 'Hi Robin, I write for Ledger Weekly and would love to interview you about your finance tooling. Do you have 20 minutes next week? Hana', hoursAgo: 9 },
    { id: ids.next('editor'), from: 'editor@tidewater.example', fromName: 'Tidewater Brief Editor', subject: 'Your letter will be printed', body: 'Thanks for your letter about the ferry timetable. We will print it in next week\'s issue.', hoursAgo: 30 },
  ];
  const archivedAlready = { ...all[6]!, folder: 'archive' };
  const inInbox = all.filter((m) => m !== all[6]);
  const moved = inInbox.map((m) => m.id!);
  return familyTask({
    id: 'mail/archive-newsletters',
    instruction:
      "Archive every issue of The Tidewater Brief, Ledger Weekly and Quiet Circuits that's still in my inbox — I've stopped reading them. " +
      'Anything else from those outfits (like personal emails from their staff) stays where it is. There is no bulk archive, so move them one at a time.',
    difficulty: 'hard',
    labels: ['cleanup', 'folders', 'bulk', 'long'],
    family: { name: 'newsletters', params: { action: 'archive', publications: pubs.map((p) => p.name) } },
    messages: [...inInbox, archivedAlready, ...distractors],
    checks: [
      { check: 'message_in_folder', name: 'issues archived', messageIds: moved, folder: 'archive' },
      { check: 'not_deleted', name: 'staff mail kept', messageIds: distractors.map((d) => d.id!) },
      { check: 'messages_unchanged_except', except: moved },
      { check: 'no_other_sent', max: 0 },
    ],
    steps: pubs.flatMap((p) => [
      step('search_messages', { from: p.address, folder: 'inbox', pageSize: 25 }),
      ...inInbox.filter((m) => m.from === p.address).map((m) => step('move_message', { messageId: m.id!, folder: 'archive' })),
    ]),
    maxTurns: 70,
  });
}

/** Move two newsletters into a new Reading folder and star each issue (two calls per issue). */
function readingFolder(): Task {
  const ids = new IdPool('newsletters:reading');
  const pubs = PUBLICATIONS.slice(3);
  const all = pubs.flatMap((p, i) => issues(ids, p, 4 + i * 5));
  const other = issues(ids, PUBLICATIONS[2]!, 7).slice(0, 3);
  const targets = all.map((m) => m.id!);
  return familyTask({
    id: 'mail/newsletters-to-reading-folder',
    instruction:
      "Make me a weekend reading pile: move every issue of Slow Mornings and Fieldwork Letters into a new folder called 'Reading' and " +
      'star each one. Leave other newsletters alone.',
    difficulty: 'hard',
    labels: ['folders', 'star', 'bulk', 'long'],
    family: { name: 'newsletters', params: { action: 'reading-folder', publications: pubs.map((p) => p.name) } },
    messages: [...all, ...other],
    checks: [
      { check: 'message_in_folder', name: 'issues in Reading', messageIds: targets, folder: 'Reading' },
      { check: 'is_starred', name: 'issues starred', messageIds: targets },
      { check: 'messages_unchanged_except', except: targets },
      { check: 'no_other_sent', max: 0 },
    ],
    steps: [
      step('create_folder', { name: 'Reading' }),
      ...pubs.flatMap((p) => [
        step('search_messages', { from: p.address, pageSize: 25 }),
        ...all.filter((m) => m.from === p.address).flatMap((m) => [step('move_message', { messageId: m.id!, folder: 'Reading' }), step('star_message', { messageId: m.id! })]),
      ]),
    ],
    maxTurns: 70,
  });
}

export function newsletterTasks(): Task[] {
  return [archiveThree(), readingFolder()];
}
