// One company, Larkspur, seen from every app: the notes workspace members are the roster, the
// calendar directory lists the same people, and chat handles and titles are added here.
import { NOTES_MEMBERS } from '../notes/index.ts';

export interface Colleague {
  id: string;
  name: string;
  email: string;
  team: string;
  handle: string;
  title: string;
}

/** The person the agent works for, in every app. */
export const ME = { id: 'u-robin', name: 'Robin Okafor', email: 'robin.okafor@larkspur.example', handle: 'robin', team: 'Product', timeZone: 'Europe/London' } as const;

/** People in the calendar directory who are not notes members yet; the workplace seeds them into notes too. */
export const EXTRA_MEMBERS = [
  { id: 'u-jordan', name: 'Jordan Avery', email: 'jordan.avery@larkspur.example', team: 'Partnerships' },
  { id: 'u-jonas', name: 'Jonas Peirce', email: 'jonas.peirce@larkspur.example', team: 'Partnerships' },
  { id: 'u-ana', name: 'Ana Ferreira', email: 'ana.ferreira@larkspur.example', team: 'Finance' },
] as const;

/** Chat handle and job title by member id. Two Sams, a Jonah and a Jonas, two Ferreiras: names alone can mislead. */
const CHAT_PROFILE: Record<string, { handle: string; title: string }> = {
  'u-robin': { handle: 'robin', title: 'Senior Product Manager' },
  'u-priya': { handle: 'priya', title: 'Engineering Manager' },
  'u-marcus': { handle: 'marcus.l', title: 'Staff Engineer' },
  'u-sam-w': { handle: 'sam.w', title: 'Security Lead' },
  'u-sam-c': { handle: 'sam.c', title: 'Account Executive' },
  'u-samira': { handle: 'samira', title: 'Product Designer' },
  'u-elena': { handle: 'elena.v', title: 'Finance Business Partner' },
  'u-tomas': { handle: 'tomas', title: 'Backend Engineer' },
  'u-hana': { handle: 'hana.k', title: 'Design Lead' },
  'u-devika': { handle: 'devika', title: 'Data Scientist' },
  'u-oliver': { handle: 'oliver.b', title: 'Operations Manager' },
  'u-aisha': { handle: 'aisha', title: 'People Partner' },
  'u-chen': { handle: 'chen.w', title: 'Mobile Engineer' },
  'u-lucia': { handle: 'lucia.f', title: 'Product Marketing Manager' },
  'u-jonah': { handle: 'jonah', title: 'Support Lead' },
  'u-nadia': { handle: 'nadia', title: 'Commercial Counsel' },
  'u-kofi': { handle: 'kofi', title: 'Platform Engineer' },
  'u-ingrid': { handle: 'ingrid', title: 'Head of Product' },
  'u-jordan': { handle: 'jordan.a', title: 'Partner Manager (APAC)' },
  'u-jonas': { handle: 'jonas.p', title: 'Partner Manager (DACH)' },
  'u-ana': { handle: 'ana.f', title: 'Accounts Payable' },
};

export const COLLEAGUES: Colleague[] = [...NOTES_MEMBERS, ...EXTRA_MEMBERS].map((m) => {
  const profile = CHAT_PROFILE[m.id];
  if (!profile) throw new Error(`workplace people: no chat profile for ${m.id}`);
  return { id: m.id, name: m.name, email: m.email, team: m.team, ...profile };
});

export function colleague(idOrHandle: string): Colleague {
  const c = COLLEAGUES.find((p) => p.id === idOrHandle || p.handle === idOrHandle || p.email === idOrHandle);
  if (!c) throw new Error(`no colleague ${idOrHandle}`);
  return c;
}

/** Short names for task code: `P.priya.email`. */
export const P = {
  me: colleague('u-robin'),
  priya: colleague('u-priya'),
  marcus: colleague('u-marcus'),
  samW: colleague('u-sam-w'),
  samC: colleague('u-sam-c'),
  samira: colleague('u-samira'),
  elena: colleague('u-elena'),
  tomas: colleague('u-tomas'),
  hana: colleague('u-hana'),
  devika: colleague('u-devika'),
  oliver: colleague('u-oliver'),
  aisha: colleague('u-aisha'),
  chen: colleague('u-chen'),
  lucia: colleague('u-lucia'),
  jonah: colleague('u-jonah'),
  nadia: colleague('u-nadia'),
  kofi: colleague('u-kofi'),
  ingrid: colleague('u-ingrid'),
  jordan: colleague('u-jordan'),
  jonas: colleague('u-jonas'),
  ana: colleague('u-ana'),
} as const;

/** Outside organisations for background mail and chat; which people appear varies with the seed. */
export const PARTNER_ORGS = [
  { name: 'Brightwater Logistics', domain: 'brightwater.example' },
  { name: 'Kelpie Analytics', domain: 'kelpie-analytics.example' },
  { name: 'Marrow & Pike Legal', domain: 'marrowpike.example' },
  { name: 'Orchard Print Co', domain: 'orchardprint.example' },
  { name: 'Saltmarsh Studio', domain: 'saltmarsh.example' },
  { name: 'Tern Cloud', domain: 'terncloud.example' },
] as const;

export const OUTSIDE_FIRST = ['Abel', 'Bronwen', 'Cosmo', 'Delphine', 'Emeka', 'Freya', 'Gideon', 'Ilse', 'Jun', 'Kirra', 'Linus', 'Mireille', 'Noor', 'Osric', 'Petra', 'Quinn'] as const;
export const OUTSIDE_LAST = ['Ashdown', 'Bellweather', 'Coulter', 'Drummond', 'Everly', 'Fairbairn', 'Gostelow', 'Halloran', 'Inchbald', 'Jessop', 'Kilbride', 'Lasseter'] as const;
