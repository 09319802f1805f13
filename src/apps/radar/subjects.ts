// The radar's subjects and the two prompts its agents get: sort one item, digest one subject.
import { z } from 'zod';
import type { FeedItem } from './feeds.ts';

export const Subject = z
  .object({
    id: z.string().regex(/^[a-z0-9_-]+$/, 'lowercase letters, digits, _ and -').refine((id) => id !== 'none', 'none is reserved for items that fit no subject'),
    name: z.string().min(1),
    description: z.string().min(1),
  })
  .strict();
export type Subject = z.infer<typeof Subject>;

export const SubjectsFile = z
  .object({ subjects: z.array(Subject).min(1) })
  .strict()
  .refine((f) => new Set(f.subjects.map((s) => s.id)).size === f.subjects.length, 'subject ids must be unique');

export const NO_SUBJECT = 'none';

export const CLASSIFY_SYSTEM = 'You sort new research papers and blog posts into the subjects a research team follows. End with the line the question asks for, naming one subject id.';

/** The classifier's question; eval cases ask exactly this. */
export function classifyPrompt(item: Pick<FeedItem, 'title' | 'link' | 'summary'>, subjects: readonly Subject[]): string {
  return [
    'Sort this item into one of the subjects below.',
    '',
    'Subjects:',
    ...subjects.map((s) => `- ${s.id}: ${s.name}. ${s.description}`),
    `- ${NO_SUBJECT}: fits none of them.`,
    '',
    'Item:',
    `Title: ${item.title}`,
    `Link: ${item.link}`,
    `Summary: ${item.summary || '(none)'}`,
    '',
    'Reply with one line: `Subject: <id>`.',
  ].join('\n');
}

export const DIGEST_SYSTEM = 'You write a research digest for a team of machine-learning engineers: precise, brief, no hype.';

export function digestPrompt(subject: Subject, items: readonly FeedItem[]): string {
  return [
    `Write the digest section for subject ${subject.name} (${subject.id}).`,
    'For each item, one or two sentences on what is new and why it matters; then two or three sentences of analysis across the items (trends, disagreements, what to read first).',
    'Refer to items by their number, like [2].',
    '',
    ...items.flatMap((item, i) => [`[${i + 1}] ${item.title} (${item.link})`, item.summary || '(no summary)', '']),
  ].join('\n');
}
