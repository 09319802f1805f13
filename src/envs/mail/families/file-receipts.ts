import type { JsonObject, Task } from '../../../core/index.ts';
import type { MessageFixtureInput } from '../schema.ts';
import { familyTask, IdPool, step } from './build.ts';

interface Vendor {
  name: string;
  address: string;
  items: readonly string[];
}

const ALL_VENDORS: Vendor[] = [
  { name: 'Copperleaf Coffee', address: 'receipts@copperleaf.example', items: ['flat white and croissant', 'team coffee order', 'beans, 1 kg', 'oat latte'] },
  { name: 'Marlow Office Supply', address: 'orders@marlowoffice.example', items: ['printer paper, 5 reams', 'whiteboard markers', 'desk lamp', 'label tape'] },
  { name: 'Fernway Rail', address: 'tickets@fernwayrail.example', items: ['return to Bristol', 'single to Leeds', 'weekly season ticket', 'return to York'] },
  { name: 'Quillby Print', address: 'hello@quillbyprint.example', items: ['business cards', 'A1 poster', 'event flyers', 'bound reports'] },
  { name: 'Sablewood Taxis', address: 'rides@sablewoodtaxis.example', items: ['ride to the airport', 'ride to Harbour Street', 'late ride home', 'ride to the station'] },
  { name: 'Tidewell Parking', address: 'no-reply@tidewellparking.example', items: ['day pass, Level 2', 'evening pass', 'weekly pass', 'day pass, Level 4'] },
];

/** Receipt wording differs by vendor, so one search phrase does not find them all. */
const SUBJECTS = ['Your receipt from {v}', 'Receipt #{n}', '{v}: payment confirmation', 'Thanks for your order ({v})'] as const;

interface Variant {
  slug: string;
  vendors: Vendor[];
  perVendor: number;
}

const VARIANTS: Variant[] = [
  { slug: 'five-vendors', vendors: ALL_VENDORS.slice(0, 5), perVendor: 4 },
  { slug: 'six-vendors', vendors: ALL_VENDORS, perVendor: 4 },
];

function receiptsTask(variant: Variant): Task {
  const ids = new IdPool(`file-receipts:${variant.slug}`);
  const byVendor = new Map<string, string[]>();
  const receipts: MessageFixtureInput[] = [];
  let n = 0;
  for (let round = 0; round < variant.perVendor; round++) {
    variant.vendors.forEach((vendor, v) => {
      n += 1;
      const id = ids.next(`${vendor.name}:${round}`);
      byVendor.set(vendor.name, [...(byVendor.get(vendor.name) ?? []), id]);
      const number = 70_000 + n * 137;
      const amount = (3 + ((n * 7.3) % 60)).toFixed(2);
      receipts.push({
        id,
        from: vendor.address,
        fromName: vendor.name,
        subject: SUBJECTS[v % SUBJECTS.length]!.replace('{v}', vendor.name).replace('{n}', String(number)),
        body: `Thank you for your purchase.\n\n${vendor.items[round % vendor.items.length]!}: £${amount}\nReceipt number: ${number}\n\n${vendor.name}`,
        hoursAgo: 3 + n * 9,
        read: n % 3 === 0,
      });
    });
  }
  const distractors: MessageFixtureInput[] = [
    { id: ids.next('lookalike'), from: 'till@copperleafcafe-bristol.example', fromName: 'Copperleaf Cafe Bristol', subject: 'Your receipt from Copperleaf Cafe Bristol', body: 'Thank you for your purchase.\n\nPot of tea: £3.20\nReceipt number: 5521', hoursAgo: 40 },
    { id: ids.next('not-receipt'), from: 'tickets@fernwayrail.example', fromName: 'Fernway Rail', subject: 'Your Fernway Rail journey has changed', body: 'Engineering works: your 18:05 to Bristol will leave from platform 4 on Saturday.', hoursAgo: 20 },
  ];
  const names = variant.vendors.map((v) => v.name);
  const all = [...byVendor.values()].flat();
  const checks: JsonObject[] = [
    ...names.map((name) => ({ check: 'message_in_folder', name: `${name} receipts filed`, messageIds: byVendor.get(name) ?? [], folder: name })),
    { check: 'messages_unchanged_except', except: all },
    { check: 'no_other_sent', max: 0 },
  ];
  return familyTask({
    id: `mail/file-receipts-${variant.slug}`,
    instruction:
      `My inbox has a pile of receipts from ${names.length} vendors. File each one into a folder named exactly after its vendor: ` +
      `${names.join(', ')} (create the folders). Receipts from anyone else, and anything that isn't a receipt, stay in the inbox. ` +
      'There is no bulk move, so it is one message at a time.',
    difficulty: 'hard',
    labels: ['folders', 'triage', 'bulk', 'lookalike-senders', 'long'],
    family: { name: 'file-receipts', params: { vendors: names, perVendor: variant.perVendor } },
    messages: [...receipts, ...distractors],
    checks,
    steps: [
      ...names.map((name) => step('create_folder', { name })),
      ...variant.vendors.flatMap((vendor) => [
        step('search_messages', { from: vendor.address, folder: 'inbox', pageSize: 25 }),
        ...(byVendor.get(vendor.name) ?? []).map((id) => step('move_message', { messageId: id, folder: vendor.name })),
      ]),
    ],
    maxTurns: 80,
  });
}

/** "File each receipt into the folder named after its vendor": 20 and 24 receipts. */
export function fileReceiptTasks(): Task[] {
  return VARIANTS.map(receiptsTask);
}
