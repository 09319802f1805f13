// Invented colleagues across Europe, the Americas, Africa and Asia, with home zones and working hours.
import { ME, type PersonRow } from './schema.ts';

const person = (name: string, team: string, time_zone: string, hours: [string, string], email?: string): PersonRow => ({
  email: email ?? `${name.toLowerCase().normalize('NFD').replace(/[\u0300-\u036f]/g, '').replace(/ /g, '.')}@larkspur.example`,
  name,
  team,
  time_zone,
  work_start: hours[0],
  work_end: hours[1],
  work_days: '1,2,3,4,5',
  external: 0,
});

export const PEOPLE: PersonRow[] = [
  { ...ME, work_days: '1,2,3,4,5', external: 0 },
  person('Priya Raman', 'Engineering', 'Europe/London', ['09:00', '17:30']),
  person('Marcus Lindqvist', 'Engineering', 'Europe/Stockholm', ['08:00', '16:30']),
  person('Kofi Mensah', 'Engineering', 'Africa/Accra', ['08:30', '17:00']),
  person('Chen Wei', 'Engineering', 'Asia/Singapore', ['09:00', '18:00']),
  person('Tomás Ibarra', 'Engineering', 'America/Mexico_City', ['09:00', '18:00']),
  person('Hana Kobayashi', 'Design', 'Asia/Tokyo', ['10:00', '19:00']),
  person('Samira Haddad', 'Design', 'Asia/Dubai', ['09:00', '17:00']),
  person('Devika Menon', 'Data', 'Asia/Kolkata', ['09:30', '18:00']),
  person('Oliver Brandt', 'Operations', 'Europe/Berlin', ['08:00', '16:00']),
  person('Aisha Bello', 'People', 'Africa/Lagos', ['09:00', '17:00']),
  person('Ingrid Solberg', 'Product', 'Europe/Oslo', ['08:30', '16:30']),
  person('Elena Varga', 'Finance', 'Europe/Budapest', ['09:00', '17:00']),
  person('Nadia Petrova', 'Legal', 'Europe/Sofia', ['09:00', '18:00']),
  person('Lucía Ferreira', 'Marketing', 'America/Sao_Paulo', ['09:00', '18:00']),
  person('Jonah Pierce', 'Support', 'America/New_York', ['09:00', '17:00']),
  person('Sam Whitfield', 'Security', 'America/Chicago', ['08:00', '16:00']),
  person('Sam Castellano', 'Sales', 'America/Los_Angeles', ['08:00', '17:00']),
  person('Jordan Avery', 'Partnerships', 'Australia/Sydney', ['09:00', '17:00']),
  person('Jonas Peirce', 'Partnerships', 'Europe/Berlin', ['09:00', '17:00']),
  person('Ana Ferreira', 'Finance', 'Europe/Lisbon', ['09:00', '17:30']),
];

export function emailOf(name: string): string {
  const p = PEOPLE.find((x) => x.name === name);
  if (!p) throw new Error(`no person named ${name}`);
  return p.email;
}

/** Short handles for task code. */
export const P = {
  me: ME.email,
  priya: emailOf('Priya Raman'),
  marcus: emailOf('Marcus Lindqvist'),
  kofi: emailOf('Kofi Mensah'),
  chen: emailOf('Chen Wei'),
  tomas: emailOf('Tomás Ibarra'),
  hana: emailOf('Hana Kobayashi'),
  samira: emailOf('Samira Haddad'),
  devika: emailOf('Devika Menon'),
  oliver: emailOf('Oliver Brandt'),
  aisha: emailOf('Aisha Bello'),
  ingrid: emailOf('Ingrid Solberg'),
  elena: emailOf('Elena Varga'),
  nadia: emailOf('Nadia Petrova'),
  lucia: emailOf('Lucía Ferreira'),
  jonah: emailOf('Jonah Pierce'),
  samW: emailOf('Sam Whitfield'),
  samC: emailOf('Sam Castellano'),
  jordan: emailOf('Jordan Avery'),
  jonas: emailOf('Jonas Peirce'),
  ana: emailOf('Ana Ferreira'),
} as const;
