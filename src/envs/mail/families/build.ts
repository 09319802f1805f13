import { hashString, Task, type JsonObject, type TaskInput, type ToolInvocation } from '../../../core/index.ts';
import { MAIL_SYSTEM_PROMPT, type ContactFixtureInput, type MessageFixtureInput } from '../schema.ts';

/**
 * Fixed message ids for a generated task: derived from the task and a key, so they are the same
 * for every seed and look like generated ids (msg_ plus four digits), never repeating in one task.
 */
export class IdPool {
  private readonly used = new Set<string>();
  constructor(private readonly scope: string) {}

  next(key: string): string {
    for (let salt = 0; ; salt++) {
      const id = `msg_${String(hashString(`${this.scope}:${key}:${salt}`) % 10000).padStart(4, '0')}`;
      if (!this.used.has(id)) {
        this.used.add(id);
        return id;
      }
    }
  }
}

export interface FamilyTaskInput {
  id: string;
  instruction: string;
  difficulty: 'easy' | 'medium' | 'hard';
  labels: string[];
  family: { name: string; params: JsonObject };
  messages: MessageFixtureInput[];
  contacts?: ContactFixtureInput[];
  folders?: string[];
  checks: JsonObject[];
  steps: ToolInvocation[];
  answer?: string;
  maxTurns?: number;
}

/** A generated task in the same shape as the YAML ones. */
export function familyTask(input: FamilyTaskInput): Task {
  const initialState: JsonObject = { messages: input.messages as unknown as JsonObject[] };
  if (input.contacts) initialState.contacts = input.contacts as unknown as JsonObject[];
  if (input.folders) initialState.folders = input.folders;
  const task: TaskInput = {
    id: input.id,
    env: 'mail',
    instruction: input.instruction,
    systemPrompt: MAIL_SYSTEM_PROMPT,
    initialState,
    verifier: { checks: input.checks },
    golden: { steps: input.steps, ...(input.answer !== undefined ? { answer: input.answer } : {}) },
    limits: { maxTurns: input.maxTurns ?? 50, deadlineMs: 600_000 },
    tags: { domain: 'mail', difficulty: input.difficulty, labels: input.labels },
    family: input.family,
  };
  return Task.parse(task);
}

export function step(tool: string, args: JsonObject): ToolInvocation {
  return { tool, arguments: args };
}

/** "Ana Sousa" → "ana.sousa@domain". */
export function addressOf(name: string, domain: string): string {
  return `${name.toLowerCase().replace(/[^a-z]+/g, '.')}@${domain}`;
}

/** Spreads messages over the last days, newest first, deterministically. */
export function hoursAgo(index: number, spacing = 5, start = 2): number {
  return start + index * spacing;
}
