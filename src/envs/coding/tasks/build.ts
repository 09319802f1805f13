// Building coding tasks: one spec (repo, hidden tests, what may change, golden steps) becomes a
// Task whose verifier runs the hidden tests and keeps everything else byte-identical.
import { Task, type Difficulty, type JsonObject, type ToolInvocation } from '../../../core/index.ts';

export const CODING_SYSTEM_PROMPT = [
  'You are a software engineer working in a JavaScript repository at /work (Node.js 20, ES modules unless the package says otherwise, no network, no npm install).',
  'Use the tools to explore the code, run the tests (`node --test`), and make the change the user asks for.',
  'Fix the code, not the tests: existing test files must stay as they are, and more tests than the visible ones will be run on your change.',
  'When you are done, call submit with a one-line summary.',
].join('\n');

export interface CodingTaskSpec {
  /** The id is `coding/<slug>`. */
  slug: string;
  instruction: string;
  difficulty: Difficulty;
  labels: string[];
  /** A folder under projects/ copied into the repo. */
  project?: string;
  /** Files placed into the repo (alone, or on top of `project`). */
  files?: Record<string, string>;
  /** Probe suites under hidden/: the hidden tests, and a port of the repo's own tests (judged outside the sandbox too). */
  hidden: string[];
  /** Globs of the files the change may touch (everything else keeps its bytes). */
  editable: string[];
  golden: ToolInvocation[];
  metadata?: JsonObject;
  maxTurns?: number;
}

export function codingTask(spec: CodingTaskSpec): Task {
  const hard = spec.difficulty === 'hard';
  return Task.parse({
    id: `coding/${spec.slug}`,
    env: 'coding',
    instruction: spec.instruction,
    systemPrompt: CODING_SYSTEM_PROMPT,
    initialState: { ...(spec.project ? { project: spec.project } : {}), ...(spec.files ? { files: spec.files } : {}) },
    verifier: {
      checks: [
        { check: 'hidden_tests', name: 'hidden tests pass', files: spec.hidden },
        { check: 'files_unchanged_except', name: 'tests and other files untouched', except: spec.editable },
      ],
    },
    golden: { steps: spec.golden },
    limits: { maxTurns: spec.maxTurns ?? (hard ? 80 : 40), deadlineMs: hard ? 900_000 : 600_000 },
    tags: { domain: 'coding', difficulty: spec.difficulty, labels: spec.labels },
    ...(spec.metadata ? { metadata: spec.metadata } : {}),
  });
}

// Golden-step helpers: the tool calls an engineer would make.
export const read = (path: string, offset?: number): ToolInvocation => ({ tool: 'read_file', arguments: offset ? { path, offset } : { path } });
export const edit = (path: string, oldText: string, newText: string): ToolInvocation => ({ tool: 'edit_file', arguments: { path, oldText, newText } });
export const write = (path: string, content: string): ToolInvocation => ({ tool: 'write_file', arguments: { path, content } });
export const run = (command = 'node --test'): ToolInvocation => ({ tool: 'run_command', arguments: { command } });
export const list = (path?: string): ToolInvocation => ({ tool: 'list_files', arguments: path ? { path } : {} });
export const search = (pattern: string, path?: string): ToolInvocation => ({ tool: 'search_code', arguments: path ? { pattern, path } : { pattern } });
export const submit = (summary: string): ToolInvocation => ({ tool: 'submit', arguments: { summary } });
