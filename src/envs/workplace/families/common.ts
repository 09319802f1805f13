import Database from 'better-sqlite3';
import { createRng, createSeededClock, Task, type Difficulty, type JsonObject, type JsonValue, type ToolInvocation } from '../../../core/index.ts';
import { CALENDAR_PEOPLE, CALENDAR_SCHEMA, CalendarFixtures, formatIso, freeSlots, seedCalendarWith } from '../../calendar/index.ts';
import type { EpisodeContext } from '../../define.ts';
import type { ChatFixturesInput } from '../chat-schema.ts';
import { WORKPLACE_START, WORKPLACE_SYSTEM_PROMPT } from '../constants.ts';
import { withStatementCache } from '../../images.ts';

export interface WorkplaceTaskSpec {
  slug: string;
  instruction: string;
  difficulty: Difficulty;
  labels: string[];
  mail?: JsonObject;
  notes?: JsonObject;
  calendar?: JsonObject;
  chat?: ChatFixturesInput;
  /** Generic world options: schedule, flakyTools. */
  world?: JsonObject;
  /** Check specs; plain objects (serialised to JSON when the task is built). */
  checks: object[];
  steps: ToolInvocation[];
  answer?: string;
  family?: { name: string; params: JsonObject };
  /** A plausible path that ignores a mid-episode update; the tests prove it fails. */
  stale?: ToolInvocation[];
}

export function json(value: unknown): JsonObject {
  return JSON.parse(JSON.stringify(value)) as JsonObject;
}

/** A workplace task with room for the agent: at least 50 turns, or twice the golden length plus ten. */
export function workplaceTask(spec: WorkplaceTaskSpec): Task {
  const initialState: JsonObject = {};
  for (const app of ['mail', 'notes', 'calendar', 'chat'] as const) if (spec[app] !== undefined) initialState[app] = json(spec[app]);
  return Task.parse({
    id: `workplace/${spec.slug}`,
    env: 'workplace',
    instruction: spec.instruction,
    systemPrompt: WORKPLACE_SYSTEM_PROMPT,
    initialState: { ...initialState, ...(spec.world ?? {}) },
    verifier: { checks: JSON.parse(JSON.stringify(spec.checks)) as JsonObject[] },
    golden: { steps: spec.steps, ...(spec.answer === undefined ? {} : { answer: spec.answer }) },
    limits: { maxTurns: Math.max(50, spec.steps.length * 2 + 10), deadlineMs: 900_000 },
    tags: { domain: 'workplace', difficulty: spec.difficulty, labels: spec.labels },
    ...(spec.family ? { family: spec.family } : {}),
    ...(spec.stale ? { metadata: { staleSteps: json(spec.stale) } } : {}),
  });
}

export function step(tool: string, args: Record<string, JsonValue> = {}): ToolInvocation {
  return { tool, arguments: args };
}

export const MINUTE = 60_000;

/** London wall time (GMT until 29 March 2026) as ISO with its offset, for golden arguments. */
export const london = (ms: number): string => formatIso(ms, 'Europe/London');

export interface SlotRequest {
  /** Everyone besides me who must attend. */
  people: string[];
  durationMinutes: number;
  /** Only inside one of these windows (ISO instants), which the fixtures also keep free of noise. */
  windows: { start: string; end: string }[];
}

/**
 * Picks a time for each request, in order, where every attendee and I are free and inside working
 * hours, on the calendar as it is before seeded noise (the `keep_free` windows keep noise out at run
 * time), without two picks overlapping. Throws when a request cannot be placed.
 */
export function planSlots(calendar: JsonObject, requests: SlotRequest[]): number[] {
  const db = withStatementCache(new Database(':memory:'));
  db.exec(CALENDAR_SCHEMA);
  const task = Task.parse({ id: 'workplace/planning', env: 'workplace', instruction: 'plan', verifier: { checks: [{ check: 'none' }] }, golden: { steps: [] }, tags: { domain: 'workplace', difficulty: 'easy' } });
  const ctx: EpisodeContext = { db, clock: createSeededClock(WORKPLACE_START), ids: { next: (p) => p }, rng: createRng(0), task, sandbox: undefined, signal: new AbortController().signal };
  seedCalendarWith(ctx, CalendarFixtures.parse({ ...calendar, background: false }));
  const taken: { start: number; end: number }[] = [];
  const me = CALENDAR_PEOPLE.find((p) => p.email === 'robin.okafor@larkspur.example')!;
  const picks = requests.map((r) => {
    const people = [me, ...r.people.map((email) => CALENDAR_PEOPLE.find((p) => p.email === email) ?? failPlan(`unknown person ${email}`))];
    for (const w of r.windows) {
      const slots = freeSlots(db, { people, from: Date.parse(w.start), to: Date.parse(w.end), durationMs: r.durationMinutes * MINUTE, stepMs: 30 * MINUTE });
      const free = slots.find((s) => !taken.some((t) => s.start < t.end && t.start < s.end));
      if (free) {
        taken.push(free);
        return free.start;
      }
    }
    return failPlan(`no slot for ${r.people.join(', ')} in ${r.windows.map((w) => w.start).join(', ')}`);
  });
  db.close();
  return picks;
}

function failPlan(message: string): never {
  throw new Error(`workplace task planning: ${message}`);
}
