import { Task, type Difficulty, type JsonObject, type JsonValue, type ToolInvocation } from '../../../core/index.ts';
import type { NotesFixturesInput } from '../fixtures.ts';
import { NOTES_SYSTEM_PROMPT } from '../schema.ts';
import { ROSTER } from '../seed-data.ts';

export interface NotesTaskSpec {
  slug: string;
  instruction: string;
  difficulty: Difficulty;
  labels: string[];
  fixtures: NotesFixturesInput;
  /** Generic world settings: schedule, flakyTools, now. */
  world?: JsonObject;
  checks: JsonObject[];
  steps: ToolInvocation[];
  answer?: string;
  family?: { name: string; params: JsonObject };
}

function json(value: unknown): JsonObject {
  return JSON.parse(JSON.stringify(value)) as JsonObject;
}

/** A notes task with room for the agent: at least 50 turns, or twice the golden length. */
export function notesTask(spec: NotesTaskSpec): Task {
  return Task.parse({
    id: `notes/${spec.slug}`,
    env: 'notes',
    instruction: spec.instruction,
    systemPrompt: NOTES_SYSTEM_PROMPT,
    initialState: { ...json(spec.fixtures), ...(spec.world ?? {}) },
    verifier: { checks: spec.checks },
    golden: { steps: spec.steps, ...(spec.answer === undefined ? {} : { answer: spec.answer }) },
    limits: { maxTurns: Math.max(50, spec.steps.length * 2 + 10), deadlineMs: 600_000 },
    tags: { domain: 'notes', difficulty: spec.difficulty, labels: spec.labels },
    ...(spec.family ? { family: spec.family } : {}),
  });
}

export function step(tool: string, args: Record<string, JsonValue> = {}): ToolInvocation {
  return { tool, arguments: args };
}

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
