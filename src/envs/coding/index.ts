// The coding environment: a small JavaScript repo in a bwrap sandbox, tools to run commands and
// read/edit files, and tasks (bugs and feature requests, some on real npm packages) judged by
// hidden probe suites whose expected values never enter the sandbox (grader/), plus "tests
// untouched" invariants.
import { z } from 'zod';
import { describeZodIssues, InfraError, type Task, type ToolInvocation } from '../../core/index.ts';
import { isProcessSandbox } from '../../sandbox/index.ts';
import { defineEnvironment, type EpisodeContext } from '../define.ts';
import { parseTaskPart } from '../parsed.ts';
import { codingChecks, requireProcessSandbox } from './checks.ts';
import { projectFiles } from './files.ts';
import { selfCheckCodingTask } from './self-check.ts';
import { codingTasks } from './tasks/index.ts';
import { auditSchema, codingTools } from './tools.ts';

/** What a task's `initialState` holds besides the generic world options. */
export const CodingInitialState = z
  .object({
    /** A folder under src/envs/coding/projects/, copied into the work dir at reset. */
    project: z.string().regex(/^[a-z0-9-]+$/).optional(),
    /** Files placed on top of the project (or alone): path relative to the repo root -> content. */
    files: z.record(z.string().min(1), z.string()).default({}),
  })
  .refine((s) => s.project !== undefined || Object.keys(s.files).length > 0, 'give a project, files, or both');

async function seedRepo(ctx: EpisodeContext): Promise<void> {
  // Checked in extraSnapshot instead: reset reports seed errors as environment failures, and a
  // missing process sandbox is the sandbox's failure (InfraError 'sandbox').
  if (!isProcessSandbox(ctx.sandbox)) return;
  const parsed = parseTaskPart(CodingInitialState, ctx.task.initialState);
  if (!parsed.success) {
    throw new InfraError('environment', `task ${ctx.task.id}: initialState\n${describeZodIssues(parsed.error.issues, 'initialState')}`, { retryable: false });
  }
  const files = { ...(parsed.data.project ? projectFiles(parsed.data.project) : {}), ...parsed.data.files };
  for (const [path, content] of Object.entries(files)) await ctx.sandbox.writeFile(path, content);
}

/** Deleting the sources and emptying the tests must never pass. */
function destructive(): ToolInvocation[] {
  return [
    { tool: 'run_command', arguments: { command: `find . -name '*.js' -not -path './test/*' -delete` } },
    { tool: 'run_command', arguments: { command: `for f in test/*; do : > "$f"; done` } },
  ];
}

export const coding = defineEnvironment({
  name: 'coding',
  description:
    'A JavaScript repository in a sandbox (Node 20, no network): run commands, read, search and edit files, then submit. Judged after the episode by hidden tests (and the visible ones) whose assertions run outside the sandbox, with untouched files as an invariant.',
  schema: auditSchema,
  startTime: '2026-02-02T09:00:00Z',
  stepMs: 20_000,
  sandbox: true,
  requiresProcessSandbox: true,
  seed: seedRepo,
  initialState: CodingInitialState,
  tools: codingTools,
  checks: codingChecks,
  tasks: codingTasks,
  destructive,
  extraSnapshot: async (ctx) => {
    const files = await requireProcessSandbox(ctx.sandbox).listFiles();
    return { files: files.map((f) => ({ path: f.path, size: f.size, sha256: f.sha256 })) };
  },
  extraSnapshotTables: { files: ['path', 'size', 'sha256'] },
  selfCheck: (task: Task, options) => selfCheckCodingTask(coding, task, options),
});

export { codingChecks, CODING_SANDBOX_MESSAGE } from './checks.ts';
export { codingTasks } from './tasks/index.ts';
export { codingTools } from './tools.ts';
