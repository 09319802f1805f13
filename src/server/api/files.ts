// What the API serves from disk: the eval, compare and robustness reports saved beside the store,
// and tasks experts author in the viewer (checked like any task, saved only when valid).
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync, type Stats } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import type { Hono } from 'hono';
import { stringify } from 'yaml';
import { z } from 'zod';
import { errorMessage, InputError, JsonObject, MAX_JSON_DEPTH, nestsDeeperThan, Task, type VerifierOutcome } from '../../core/index.ts';
import { checkTaskDirectly, environmentNames, getEnvironment, taskProblems } from '../../envs/index.ts';
import type { ApiContext } from './context.ts';
import { ApiError, jsonBody, notFound, PageQuery, paginate, queryOf } from './http.ts';

const REPORT_KINDS: Record<string, string> = { 'gauntlet.eval-report': 'eval', 'gauntlet.comparison': 'compare', 'gauntlet.robustness': 'robustness' };
const REPORT_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*\.json$/;

export interface ReportEntry {
  name: string;
  /** `eval`, `compare`, `robustness`; null for a JSON file that is none of them (with the problem). */
  kind: string | null;
  bytes: number;
  modifiedAt: string;
  problem?: string;
}

function readReport(path: string): { value: unknown; kind: string | null; problem?: string } {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    return { value: null, kind: null, problem: `not readable JSON (${errorMessage(error)})` };
  }
  // Parsing survives any depth, but sending it back (and drawing it) recurses: a file nested
  // thousands deep would end as a 500 "call stack exceeded" rather than say what is wrong with it.
  if (nestsDeeperThan(value)) return { value: null, kind: null, problem: `nests arrays and objects more than ${MAX_JSON_DEPTH} levels deep, deeper than any report` };
  const tag = value !== null && typeof value === 'object' ? (value as { kind?: unknown }).kind : undefined;
  const kind = typeof tag === 'string' ? (REPORT_KINDS[tag] ?? null) : null;
  return kind ? { value, kind } : { value, kind: null, problem: `not a Gauntlet report (kind ${JSON.stringify(tag ?? null)})` };
}

/** One listed report; a name that cannot be read (a dangling link) is listed with why, one gone since the folder was read is left out. */
function reportEntry(dir: string, name: string): ReportEntry | null {
  const path = join(dir, name);
  let stat: Stats;
  try {
    stat = statSync(path);
  } catch (error) {
    const link = lstatSync(path, { throwIfNoEntry: false });
    if (!link) return null;
    return { name, kind: null, bytes: 0, modifiedAt: link.mtime.toISOString(), problem: `not readable (${errorMessage(error)})` };
  }
  const { kind, problem } = readReport(path);
  return { name, kind, bytes: stat.size, modifiedAt: stat.mtime.toISOString(), ...(problem ? { problem } : {}) };
}

export function listReports(dir: string): ReportEntry[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => REPORT_NAME.test(name))
    .map((name) => reportEntry(dir, name))
    .filter((entry) => entry !== null)
    .sort((a, b) => b.modifiedAt.localeCompare(a.modifiedAt) || a.name.localeCompare(b.name));
}

export interface TaskValidation {
  valid: boolean;
  problems: { field: string; message: string }[];
  /** The golden solution's verifier outcome, when the replay ran. */
  golden: VerifierOutcome | null;
}

/** Problems listed in one answer: a task with a million bad steps must not get a reply far bigger than itself. */
const MAX_PROBLEMS = 100;

/** The first MAX_PROBLEMS problems, then one saying how many more there were. */
function capped(problems: TaskValidation['problems']): TaskValidation['problems'] {
  if (problems.length <= MAX_PROBLEMS) return problems;
  return [...problems.slice(0, MAX_PROBLEMS), { field: 'task', message: `and ${problems.length - MAX_PROBLEMS} more problems not listed (fix these and check again)` }];
}

/** Schema, the environment's own task checks, then the golden solution replayed (it must pass; doing nothing must not). */
export async function validateTask(raw: unknown, ctx: Pick<ApiContext, 'sandbox'>): Promise<TaskValidation & { task: Task | null }> {
  const result = await checkTask(raw, ctx);
  return { ...result, problems: capped(result.problems) };
}

async function checkTask(raw: unknown, ctx: Pick<ApiContext, 'sandbox'>): Promise<TaskValidation & { task: Task | null }> {
  const parsed = Task.safeParse(raw);
  if (!parsed.success) {
    return { valid: false, task: null, golden: null, problems: parsed.error.issues.map((i) => ({ field: ['task', ...i.path.map(String)].join('.'), message: i.message })) };
  }
  const task = parsed.data;
  if (!environmentNames().includes(task.env)) {
    return { valid: false, task, golden: null, problems: [{ field: 'task.env', message: `unknown environment "${task.env}" (one of ${environmentNames().join(', ')})` }] };
  }
  const definition = getEnvironment(task.env);
  const problems = taskProblems(definition, task).map((p) => ({ field: `task.${/^[\w.]+/.exec(p)?.[0] ?? 'task'}`.replace(/\.$/, ''), message: p }));
  if (problems.length > 0) return { valid: false, task, golden: null, problems };
  try {
    const check = await checkTaskDirectly(definition, task, { sandbox: ctx.sandbox });
    return { valid: check.problems.length === 0, task, golden: check.golden, problems: check.problems.map((message) => ({ field: 'task.golden', message })) };
  } catch (error) {
    return { valid: false, task, golden: null, problems: [{ field: 'task.golden', message: `the golden replay could not run: ${errorMessage(error)}` }] };
  }
}

const ValidateBody = z.strictObject({ task: JsonObject });
/** What Linux (and macOS) file systems take: NAME_MAX per name, and well within PATH_MAX below the tasks folder. */
const MAX_NAME_BYTES = 255;
const MAX_FILE_CHARS = 1024;
const SaveBody = z.strictObject({
  task: JsonObject,
  file: z
    .string()
    .regex(/^[A-Za-z0-9_][A-Za-z0-9_./-]*\.(ya?ml|json)$/, 'a relative path ending in .yaml, .yml or .json')
    .refine((f) => !f.split('/').includes('..'), 'a path inside the tasks folder (no ..)')
    // Checked before the golden replay, so a name the file system refuses is a 400, not a 500 after it.
    .max(MAX_FILE_CHARS, `at most ${MAX_FILE_CHARS} characters`)
    .refine((f) => f.split('/').every((part) => Buffer.byteLength(part) <= MAX_NAME_BYTES), `folder and file names of at most ${MAX_NAME_BYTES} bytes each`),
});

/** The first folder of `path` under `root` that exists as a file instead (so the task could not be saved there), relative to root. */
function fileInTheWay(root: string, path: string): string | null {
  for (let dir = dirname(path); dir.startsWith(root + sep); dir = dirname(dir)) {
    if (existsSync(dir) && !statSync(dir).isDirectory()) return relative(root, dir);
  }
  return null;
}

/** Writes a new task file; something appearing at its path (or in its folders) since the checks is a conflict, not a crash. */
function writeNewFile(path: string, text: string, file: string): void {
  try {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text, { flag: 'wx' });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' || code === 'ENOTDIR') throw new ApiError(409, `${file} cannot be created: ${errorMessage(error)}`, 'file');
    throw error;
  }
}

export function fileRoutes(app: Hono, ctx: ApiContext): void {
  app.get('/api/reports', (c) => c.json(paginate(listReports(ctx.reportsDir), queryOf(c, z.strictObject({ ...PageQuery })), (r) => r.name)));

  app.get('/api/reports/:name', (c) => {
    const name = c.req.param('name');
    if (!REPORT_NAME.test(name)) throw new InputError('name', `"${name}" is not a report file name`, 'a name listed by GET /api/reports');
    const path = join(ctx.reportsDir, name);
    if (!existsSync(path)) throw notFound(`report "${name}"`, 'name');
    const report = readReport(path);
    if (report.kind === null) throw new ApiError(422, `${name}: ${report.problem}`, 'name');
    return c.json({ name, kind: report.kind, report: report.value });
  });

  app.post('/api/tasks/validate', async (c) => {
    const { task } = await jsonBody(c, ValidateBody);
    const { task: _parsed, ...result } = await validateTask(task, ctx);
    return c.json(result);
  });

  app.post('/api/tasks', async (c) => {
    const body = await jsonBody(c, SaveBody);
    const root = resolve(ctx.tasksDir);
    const path = resolve(root, body.file);
    if (relative(root, path).startsWith('..') || !path.startsWith(root + sep)) throw new InputError('file', 'leaves the tasks folder', 'a path inside it');
    if (existsSync(path)) throw new ApiError(409, `${body.file} already exists in ${root}; authored tasks never overwrite a file`, 'file');
    const blocking = fileInTheWay(root, path);
    if (blocking !== null) throw new ApiError(409, `${body.file} would go inside ${blocking}, which is a file in ${root}, not a folder`, 'file');
    const { task, ...validation } = await validateTask(body.task, ctx);
    if (!validation.valid || !task) return c.json({ error: { message: `the task is not valid: ${validation.problems.map((p) => p.message).join('; ')}`, field: validation.problems[0]?.field ?? 'task' }, validation }, 422);
    writeNewFile(path, path.endsWith('.json') ? `${JSON.stringify(body.task, null, 2)}\n` : stringify(body.task), body.file);
    return c.json({ path, task, validation }, 201);
  });
}
