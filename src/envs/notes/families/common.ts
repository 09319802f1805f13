import type { Task } from '../../../core/index.ts';
import { familyTask, type FamilyTaskSpec } from '../../families.ts';
import type { NotesFixturesInput } from '../fixtures.ts';
import { NOTES_SYSTEM_PROMPT } from '../schema.ts';
import { ROSTER } from '../seed-data.ts';

export type NotesTaskSpec = FamilyTaskSpec<NotesFixturesInput>;

export function notesTask(spec: NotesTaskSpec): Task {
  return familyTask({ name: 'notes', systemPrompt: NOTES_SYSTEM_PROMPT }, spec);
}

export { step } from '../../families.ts';

export function email(memberId: string): string {
  const member = ROSTER.find((m) => m.id === memberId);
  if (!member) throw new Error(`no roster member ${memberId}`);
  return member.email;
}

export function nameOf(memberId: string): string {
  const member = ROSTER.find((m) => m.id === memberId);
  if (!member) throw new Error(`no roster member ${memberId}`);
  return member.name;
}

export const pad = (n: number): string => String(n).padStart(2, '0');

/** Calendar date `days` after `start` (YYYY-MM-DD). */
export function addDays(start: string, days: number): string {
  return new Date(Date.parse(`${start}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}
