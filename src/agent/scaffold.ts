import { SCAFFOLD_NAMES, withoutReasoning, type Message, type ScaffoldName } from '../core/index.ts';

/**
 * A scaffold decides what the model sees of the conversation each turn. The loop itself is the
 * same for all of them; only this view differs, so ablations change one thing.
 */
export interface Scaffold {
  readonly name: string;
  /** The messages to send for the next turn, given the full history so far. */
  view(history: readonly Message[]): Message[];
}

/** Every earlier turn's reasoning goes back verbatim (the default; what interleaved-thinking models expect). */
export const interleaved: Scaffold = {
  name: 'interleaved',
  view: (history) => [...history],
};

/** Earlier turns lose their reasoning: the ablation that shows what interleaving is worth. */
export const dropThinking: Scaffold = {
  name: 'drop-thinking',
  view: (history) => history.map((m) => (m.role === 'assistant' ? withoutReasoning(m) : m)),
};

/**
 * Tool calls through a chat format in raw completion text rather than the API's tool calling: the
 * loop is the interleaved one; the difference is the model client (a template + format over
 * `/v1/completions`), which the caller builds for this scaffold.
 */
export const textTools: Scaffold = { name: 'text-tools', view: interleaved.view };

export const scaffolds: Record<ScaffoldName, Scaffold> = {
  interleaved,
  'drop-thinking': dropThinking,
  'text-tools': textTools,
};

/** Scaffolds whose model client speaks raw text completions. */
export function needsTextCompletion(name: string): boolean {
  return name === textTools.name;
}

export function scaffoldNames(): string[] {
  return [...SCAFFOLD_NAMES];
}
