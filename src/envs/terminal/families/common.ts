// Shared pieces for generated terminal tasks: deterministic generation and task assembly.
import { createRng, Task, type JsonObject, type Rng, type TaskInput, type ToolInvocation } from '../../../core/index.ts';

/** Generation depends only on the family and variant, so a task id always means the same files. */
export function familyRng(family: string, variant: string | number): Rng {
  return createRng(`terminal-family:${family}:${variant}`);
}

export function step(tool: string, args: JsonObject = {}): ToolInvocation {
  return { tool, arguments: args };
}

export interface FamilyTaskInput {
  id: string;
  instruction: string;
  files: Record<string, string>;
  noise?: { dir: string; count: number };
  checks: JsonObject[];
  steps: ToolInvocation[];
  answer?: string;
  difficulty: 'easy' | 'medium' | 'hard';
  labels: string[];
  family: { name: string; params: JsonObject };
}

export function familyTask(input: FamilyTaskInput): Task {
  const task: TaskInput = {
    id: `terminal/${input.id}`,
    env: 'terminal',
    instruction: input.instruction,
    initialState: { files: input.files, ...(input.noise ? { noise: input.noise } : {}) },
    verifier: { checks: input.checks },
    golden: { steps: input.steps, ...(input.answer !== undefined ? { answer: input.answer } : {}) },
    tags: { domain: 'terminal', difficulty: input.difficulty, labels: input.labels },
    family: input.family,
  };
  return Task.parse(task);
}

/** Escapes text for use inside a RegExp source. */
export function reEscape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

export function capitalise(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}

/** `count` distinct items, in a seeded order. */
export function sample<T>(rng: Rng, items: readonly T[], count: number): T[] {
  if (count > items.length) throw new Error(`sample: asked for ${count} of ${items.length} items`);
  return rng.shuffle(items).slice(0, count);
}

export const SERVICE_NAMES = [
  'billing', 'auth', 'search', 'ledger', 'mailer', 'gateway', 'reports', 'catalog', 'inventory', 'pricing',
  'checkout', 'shipping', 'notifier', 'profiles', 'sessions', 'uploads', 'thumbnails', 'audit', 'metrics', 'scheduler',
  'webhooks', 'exports', 'imports', 'geo', 'recommender', 'reviews', 'loyalty', 'fraud', 'tax', 'currency',
] as const;
