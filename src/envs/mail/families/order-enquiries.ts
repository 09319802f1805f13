import type { JsonObject, Task } from '../../../core/index.ts';
import type { MessageFixtureInput } from '../schema.ts';
import { addressOf, familyTask, IdPool, step } from './build.ts';

const CUSTOMERS = [
  'Aurelia Mendes', 'Bogdan Petrescu', 'Chioma Eze', 'Dagny Holm', 'Florin Radu', 'Giedre Kazlauskas',
  'Hiroshi Tanabe', 'Joaquin Reyes', 'Kalani Akana', 'Ludmila Sokolova', 'Mirela Bajic', 'Nnamdi Okoro',
  'Oona Hakala', 'Pradeep Menon', 'Rafaela Cunha', 'Sakura Endo', 'Teodora Ilic', 'Umberto Salvi',
  'Valeriu Moldovan', 'Wanjiru Kamau', 'Xiadani Flores', 'Yaroslav Hrytsenko',
] as const;
const DOMAINS = ['mailpost.example', 'inboxly.example', 'postbird.example'] as const;
const SHIPS_SOON = '2 working days|two working days|2 business days|two business days|48 hours';
const NOT_YET =
  "not yet|not been dispatched|hasn't been dispatched|has not been dispatched|not dispatched|not shipped|hasn't shipped|has not shipped|not left|yet to be dispatched|yet to ship";

interface Customer {
  name: string;
  email: string;
  order: string;
  messageId: string;
}

function customers(ids: IdPool, pick: { offset: number; count: number }, order: (i: number) => string): Customer[] {
  const { offset, count } = pick;
  return Array.from({ length: count }, (_, i) => {
    const name = CUSTOMERS[(offset + i) % CUSTOMERS.length]!;
    return { name, email: addressOf(name, DOMAINS[i % DOMAINS.length]!), order: order(i), messageId: ids.next(name) };
  });
}

/** Juniper Lane: every enquiry gets its own reply quoting its own order number; one was already answered. */
function juniperLane(): Task {
  const ids = new IdPool('order-enquiries:juniper');
  const products = ['linen table runner', 'ceramic planter', 'oak serving board', 'wool throw', 'brass candle holder', 'stoneware mug set'];
  // Order numbers come in near-identical pairs (48213/48231) so swapping two is caught.
  const open = customers(ids, { offset: 0, count: 12 }, (i) => `JL-4${8213 + Math.floor(i / 2) * 111 + (i % 2) * 18}`);
  const answered: Customer = { name: 'Sakura Endo', email: addressOf('Sakura Endo', 'postbird.example'), order: 'JL-47702', messageId: ids.next('answered') };
  const enquiry = (c: Customer, i: number): MessageFixtureInput => ({
    id: c.messageId,
    thread: c.order,
    from: c.email,
    fromName: c.name,
    subject: '[Juniper Lane] Order enquiry',
    body:
      `Message: Hi there, I ordered a ${products[i % products.length]!} a few days ago as a present and I have not had a shipping email yet. ` +
      `Could you tell me when it will be sent?\n\nOrder number: ${c.order}\nName: ${c.name}\n\nSent via the Juniper Lane contact form`,
    hoursAgo: 2 + i * 4,
    read: i % 4 === 0,
  });
  const messages: MessageFixtureInput[] = [
    ...open.map(enquiry),
    enquiry(answered, 12),
    { id: ids.next('answered-reply'), thread: answered.order, inReplyTo: answered.messageId, from: 'me@northwind.example', to: [answered.email], subject: 'Re: [Juniper Lane] Order enquiry', body: `Hi Sakura, order ${answered.order} ships tomorrow. Robin`, hoursAgo: 40 },
    { id: ids.next('supplier'), from: 'dispatch@juniperlane-supplies.example', fromName: 'Juniper Lane Supplies', subject: 'Stock delivery confirmed', body: 'Your restock of ceramic planters arrives on Thursday.', hoursAgo: 30 },
  ];
  const orders = open.map((c) => c.order);
  const checks: JsonObject[] = [
    ...open.map((c) => ({
      check: 'message_sent',
      name: `replied to ${c.name}`,
      to: [c.email],
      inReplyTo: c.messageId,
      bodyContains: [c.order, SHIPS_SOON],
      bodyExcludes: orders.filter((o) => o !== c.order),
    })),
    { check: 'no_other_sent', name: 'only the open enquiries, once each', allowed: open.map((c) => c.email), max: open.length },
    { check: 'messages_unchanged_except' },
  ];
  return familyTask({
    id: 'mail/reply-order-enquiries-juniper-lane',
    instruction:
      "Customers have been writing in through the Juniper Lane web shop form (subject '[Juniper Lane] Order enquiry'). Reply to each of " +
      "them individually: quote that customer's own order number and tell them it ships within 2 working days. Skip anyone I've already " +
      "answered, and never put one customer's order number in someone else's reply.",
    difficulty: 'hard',
    labels: ['reply', 'bulk', 'per-item-lookup', 'privacy', 'long'],
    family: { name: 'order-enquiries', params: { shop: 'Juniper Lane', open: open.length, answered: 1 } },
    messages,
    checks,
    steps: [
      step('search_messages', { query: 'juniper lane order enquiry', pageSize: 25 }),
      ...open.flatMap((c) => [
        step('read_message', { messageId: c.messageId }),
        step('reply', { messageId: c.messageId, body: `Hi ${c.name.split(' ')[0]!},\n\nThanks for your message. Your order ${c.order} ships within 2 working days; you'll get a shipping email then.\n\nBest wishes,\nRobin, Juniper Lane` }),
      ]),
    ],
    maxTurns: 80,
  });
}

/** Fernhill Bikes: each reply needs the tracking number from that order's dispatch notice; one order has not shipped. */
function fernhillBikes(): Task {
  const ids = new IdPool('order-enquiries:fernhill');
  const asking = customers(ids, { offset: 12, count: 8 }, (i) => `FB-${30417 + i * 263}`);
  const unshipped = asking[5]!;
  const tracking = new Map(asking.filter((c) => c !== unshipped).map((c, i) => [c.order, `PW${7730000 + i * 4093}GB`]));
  const notices = new Map<string, string>();
  const messages: MessageFixtureInput[] = asking.map((c, i) => ({
    id: c.messageId,
    from: c.email,
    fromName: c.name,
    subject: ['Where is my order?', 'Order status', 'Has my order shipped?', 'Delivery question'][i % 4]!,
    body: `Hello, I bought a ${['rear derailleur', 'touring saddle', 'set of mudguards', 'pannier rack'][i % 4]!} from Fernhill Bikes last week and I am still waiting for it. My order number is ${c.order}. Could you send me the tracking number please?\n\n${c.name}`,
    hoursAgo: 3 + i * 5,
  }));
  for (const [i, [order, number]] of [...tracking].entries()) {
    const id = ids.next(`notice:${order}`);
    notices.set(order, id);
    messages.push({ id, from: 'warehouse@fernhillbikes.example', fromName: 'Fernhill Bikes Warehouse', subject: `Dispatch notice — order ${order}`, body: `Order ${order} left the warehouse with Parcelwing. Tracking number: ${number}.`, hoursAgo: 20 + i * 6 });
  }
  // Notices for orders nobody asked about.
  ['FB-29844', 'FB-30418', 'FB-31002'].forEach((order, i) =>
    messages.push({ id: ids.next(`other:${order}`), from: 'warehouse@fernhillbikes.example', fromName: 'Fernhill Bikes Warehouse', subject: `Dispatch notice — order ${order}`, body: `Order ${order} left the warehouse with Parcelwing. Tracking number: PW${6610000 + i * 77}GB.`, hoursAgo: 25 + i * 11 }),
  );
  const allTracking = [...tracking.values()];
  const checks: JsonObject[] = [
    ...asking.map((c) =>
      c === unshipped
        ? { check: 'message_sent', name: `told ${c.name} it has not shipped`, to: [c.email], inReplyTo: c.messageId, bodyContains: [c.order, NOT_YET], bodyExcludes: allTracking }
        : { check: 'message_sent', name: `sent ${c.name} their tracking`, to: [c.email], inReplyTo: c.messageId, bodyContains: [c.order, tracking.get(c.order)!], bodyExcludes: allTracking.filter((t) => t !== tracking.get(c.order)) },
    ),
    { check: 'no_other_sent', allowed: asking.map((c) => c.email), max: asking.length },
    { check: 'messages_unchanged_except' },
  ];
  return familyTask({
    id: 'mail/reply-order-enquiries-fernhill-bikes',
    instruction:
      'Eight Fernhill Bikes customers have emailed asking where their orders are. Reply to each one individually with their order number ' +
      "and the tracking number from that order's dispatch notice (the warehouse emails one per order). If an order hasn't been dispatched " +
      "yet, tell the customer it hasn't shipped and that we'll send tracking when it does.",
    difficulty: 'hard',
    labels: ['reply', 'bulk', 'per-item-lookup', 'across-messages', 'long'],
    family: { name: 'order-enquiries', params: { shop: 'Fernhill Bikes', open: asking.length, unshipped: 1 } },
    messages,
    checks,
    steps: [
      step('search_messages', { query: 'FB-', pageSize: 25 }),
      ...asking.flatMap((c) => {
        const notice = notices.get(c.order);
        const first = c.name.split(' ')[0]!;
        return notice
          ? [
              step('read_message', { messageId: c.messageId }),
              step('read_message', { messageId: notice }),
              step('reply', { messageId: c.messageId, body: `Hi ${first},\n\nYour order ${c.order} has shipped with Parcelwing. Tracking number: ${tracking.get(c.order)!}.\n\nFernhill Bikes` }),
            ]
          : [
              step('read_message', { messageId: c.messageId }),
              step('search_messages', { query: c.order }),
              step('reply', { messageId: c.messageId, body: `Hi ${first},\n\nYour order ${c.order} has not been dispatched yet. We'll email you the tracking number as soon as it ships.\n\nFernhill Bikes` }),
            ];
      }),
    ],
    maxTurns: 90,
  });
}

export function orderEnquiryTasks(): Task[] {
  return [juniperLane(), fernhillBikes()];
}
