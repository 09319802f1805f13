// Writes Gauntlet tasks as Harbor task folders, so Harbor users can run them: instruction.md,
// task.toml, environment/ (a Dockerfile copying the task's starting files), solution/solve.sh (the
// golden tool calls as a script) and tests/ (test.sh running Gauntlet's verifier through the
// bundled grader, which writes reward.json). File-based environments only: a Harbor agent works
// through a shell, so a world held in a database has no Harbor form.
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { parse as parseToml, stringify as toToml } from 'smol-toml';
import { createRng, describeZodIssues, type JsonObject, type Task } from '../../core/index.ts';
import { WorldOptions } from '../define.ts';
import { noiseFiles, TerminalState } from '../terminal/seed.ts';
import { normalisePath } from '../terminal/files.ts';
import { shellQuote } from './dockerfile.ts';
import { GRADER_CHECKS, HARBOR_GRADER } from './harbor-grader.ts';
import { commandsUsed } from './image.ts';

/** Environments whose tasks have a Harbor form: files in a work dir, a shell, checks over files. */
export const EXPORTABLE_ENVS = ['terminal'] as const;
/** The terminal environment's work dir; the exported image uses the same, so no path changes. */
const WORKDIR = '/work';
/** Where an exported task's agent writes the final answer the answer checks read. */
export const ANSWER_FILE = 'answer.txt';
const ANSWER_CHECKS = new Set(['answer_contains', 'answer_excludes', 'answer_number']);
/** Packages for commands beyond the base image's, for the exported Dockerfile. */
const APT_PACKAGES: Record<string, string> = {
  bc: 'bc',
  column: 'bsdextrautils',
  curl: 'curl',
  dos2unix: 'dos2unix',
  file: 'file',
  git: 'git',
  jq: 'jq',
  node: 'nodejs',
  openssl: 'openssl',
  python: 'python-is-python3',
  rsync: 'rsync',
  sqlite3: 'sqlite3',
  tree: 'tree',
  unzip: 'unzip',
  wget: 'wget',
  xmllint: 'libxml2-utils',
  xxd: 'xxd',
  zip: 'zip',
};
const BASE_IMAGE = 'ubuntu:24.04';

export interface ExportOptions {
  tasks: Task[];
  /** Folder to write into; each task gets a sub-folder named after its id. */
  dir: string;
  /** The world seed whose starting files are written (seeded background files differ per seed). */
  seed?: number;
}

export interface ExportedTask {
  id: string;
  folder: string;
  notes: string[];
}

export interface ExportResult {
  exported: ExportedTask[];
  refused: { id: string; reasons: string[] }[];
}

/** The files a terminal episode starts with for `seed`, exactly as its seed step writes them. */
export function terminalStartingFiles(task: Task, seed: number): Record<string, string> {
  const parsed = TerminalState.safeParse(task.initialState);
  if (!parsed.success) throw new Error(`task ${task.id}: initialState\n${describeZodIssues(parsed.error.issues, 'initialState')}`);
  const { files, noise } = parsed.data;
  // The same stream the environment forks for its noise: createRng(`${seed}:${task.id}`).fork('noise').
  const generated = noise ? noiseFiles(createRng(`${seed}:${task.id}`).fork('noise'), noise.dir, noise.count) : {};
  return { ...generated, ...files };
}

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

function folderName(task: Task): string {
  const bare = task.id.startsWith(`${task.env}/`) ? task.id.slice(task.env.length + 1) : task.id;
  return bare.replace(/[^A-Za-z0-9._-]+/g, '-');
}

interface Checks {
  checks: JsonObject[];
  usesAnswer: boolean;
}

/** Why the task's starting files cannot be written under environment/files: paths that leave it, or a file where a folder must be. */
function fileProblems(files: Record<string, string>): string[] {
  const problems: string[] = [];
  const paths = new Set<string>();
  for (const path of Object.keys(files)) {
    const normal = posix.normalize(normalisePath(path));
    if (normal.startsWith('/') || normal === '..' || normal.startsWith('../') || normal === '.') problems.push(`file path ${JSON.stringify(path)} is not inside the work dir ${WORKDIR}`);
    else paths.add(normal);
  }
  for (const path of paths) {
    for (let dir = posix.dirname(path); dir !== '.'; dir = posix.dirname(dir)) {
      if (paths.has(dir)) problems.push(`file path ${JSON.stringify(path)} needs ${dir} to be a folder, but the task also has a file there`);
    }
  }
  return problems;
}

function refusals(task: Task): { reasons: string[]; checks: Checks } {
  const reasons: string[] = [];
  const name = folderName(task);
  if (/^\.*$/.test(name)) reasons.push(`its id gives no usable folder name (${JSON.stringify(name)})`);
  if (!(EXPORTABLE_ENVS as readonly string[]).includes(task.env)) {
    reasons.push(`environment "${task.env}" has no Harbor form (exportable: ${EXPORTABLE_ENVS.join(', ')}; a Harbor agent works through a shell on files)`);
  }
  const world = WorldOptions.safeParse(task.initialState);
  if (world.success && world.data.schedule.length > 0) reasons.push('the task schedules world events during the episode; a Harbor container has no such clock');
  const raw = Array.isArray(task.verifier.checks) ? task.verifier.checks : [];
  const checks = raw.filter((c): c is JsonObject => c !== null && typeof c === 'object' && !Array.isArray(c));
  for (const check of checks) {
    if (!(GRADER_CHECKS as readonly string[]).includes(String(check.check))) reasons.push(`check "${String(check.check)}" has no grader outside Gauntlet`);
  }
  if (checks.length === 0) reasons.push('the verifier lists no checks');
  const usesAnswer = checks.some((c) => ANSWER_CHECKS.has(String(c.check)));
  const files = TerminalState.safeParse(task.initialState);
  if (usesAnswer && files.success && files.data.files[ANSWER_FILE] !== undefined) reasons.push(`the task has its own ${ANSWER_FILE}, where the exported task's agent would write its answer`);
  if (files.success) {
    reasons.push(...fileProblems(files.data.files));
    const noise = files.data.noise?.dir;
    if (noise !== undefined) reasons.push(...fileProblems({ [`${noise}/x`]: '' }).map((p) => `noise folder: ${p}`));
  }
  return { reasons, checks: { checks, usesAnswer } };
}

/** A here-document writing `content` exactly (it must end with a newline and not hold the delimiter). */
function writeCommand(path: string, content: string): string {
  const target = shellQuote(path);
  const mkdir = path.includes('/') ? `mkdir -p ${shellQuote(dirname(path))}\n` : '';
  if (content === '') return `${mkdir}: > ${target}`;
  const delimiter = 'GAUNTLET_EOF';
  if (content.endsWith('\n') && !content.split('\n').includes(delimiter)) return `${mkdir}cat > ${target} <<'${delimiter}'\n${content}${delimiter}`;
  return `${mkdir}printf '%s' ${shellQuote(Buffer.from(content).toString('base64'))} | base64 -d > ${target}`;
}

/** The golden tool calls as one script, each call a block; reads change nothing and stay comments. */
function solveScript(task: Task, usesAnswer: boolean): string {
  const blocks = [`#!/bin/bash\n# The golden solution of Gauntlet task ${task.id}: one block per tool call, each run from ${WORKDIR}.\ncd ${WORKDIR}`];
  let answer = task.golden.answer;
  task.golden.steps.forEach((step, i) => {
    const args = step.arguments;
    const label = `# ${i + 1}. ${step.tool}`;
    switch (step.tool) {
      case 'run_command':
        // Each terminal command is its own bash -c: a cd or exit inside does not leak into the next.
        blocks.push(`${label}\nbash -c ${shellQuote(String(args.command))}`);
        break;
      case 'write_file':
        blocks.push(`${label} ${String(args.path)}\n${writeCommand(normalisePath(String(args.path)), String(args.content ?? ''))}`);
        break;
      case 'submit':
        if (typeof args.answer === 'string') answer = args.answer;
        blocks.push(`${label}`);
        break;
      default:
        blocks.push(`${label} ${JSON.stringify(args)} (reads nothing back into the files)`);
    }
  });
  if (usesAnswer && answer !== undefined) blocks.push(`# the final answer, where the answer checks read it\nprintf '%s' ${shellQuote(answer)} > ${WORKDIR}/${ANSWER_FILE}`);
  return `${blocks.join('\n\n')}\n`;
}

function dockerfile(task: Task, packages: string[], hasFiles: boolean): string {
  const lines = [
    `# Gauntlet task ${task.id}, exported for Harbor.`,
    `FROM ${BASE_IMAGE}`,
    `RUN apt-get update && apt-get install -y --no-install-recommends ${['python3', ...packages].join(' ')} && rm -rf /var/lib/apt/lists/*`,
    // The locale Gauntlet's sandbox runs commands in (sort order, UTF-8 file names).
    'ENV LANG=C.UTF-8',
    `WORKDIR ${WORKDIR}`,
    ...(hasFiles ? [`COPY files/ ${WORKDIR}/`] : []),
  ];
  return `${lines.join('\n')}\n`;
}

const TEST_SH = `#!/bin/bash
# Grades with the task's Gauntlet verifier (gauntlet_task.json); writes /logs/verifier/reward.json.
mkdir -p /logs/verifier
python3 /tests/gauntlet_grade.py /tests/gauntlet_task.json /logs/verifier
`;

function taskToml(task: Task, seed: number, verifierSec: number): string {
  const labels = task.tags.labels;
  return toToml({
    schema_version: '1.1',
    task: { name: task.id, description: task.instruction.split('\n')[0]!.slice(0, 200) },
    metadata: {
      difficulty: task.tags.difficulty,
      category: task.tags.domain,
      tags: labels,
      gauntlet: { env: task.env, id: task.id, seed },
    },
    verifier: { timeout_sec: verifierSec },
    agent: { timeout_sec: Math.ceil(task.limits.deadlineMs / 1000) },
    environment: { build_timeout_sec: 600, cpus: 1, memory_mb: 2048, storage_mb: 1024, allow_internet: false },
  });
}

function write(path: string, content: string, executable = false): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content, { mode: executable ? 0o755 : 0o644 });
}

/**
 * Whether `folder` may be replaced: nothing is there, or an earlier export of this same task (its
 * task.toml says so). Anything else (someone's files, a link to elsewhere) is left alone.
 */
function destinationProblem(folder: string, task: Task): string | null {
  let stat;
  try {
    stat = lstatSync(folder);
  } catch {
    return null;
  }
  if (stat.isSymbolicLink()) return `${folder} is a symbolic link; not followed or replaced`;
  if (!stat.isDirectory()) return `${folder} exists and is not a folder; left as it is`;
  try {
    const toml = parseToml(readFileSync(join(folder, 'task.toml'), 'utf8')) as { metadata?: { gauntlet?: { id?: unknown } } };
    if (toml.metadata?.gauntlet?.id === task.id) return null;
  } catch {
    // no readable task.toml: not an export of ours
  }
  return `${folder} exists and is not an earlier export of this task; left as it is (choose another folder or remove it)`;
}

function exportOne(task: Task, options: { dir: string; seed: number; checks: Checks }): ExportedTask {
  const folder = join(options.dir, folderName(task));
  // Written in a fresh folder of its own, then swapped in: nothing is written through a link
  // planted at the destination, and a failed write leaves the earlier export as it was.
  mkdirSync(options.dir, { recursive: true });
  const staging = mkdtempSync(join(options.dir, `.${folderName(task)}.partial-`));
  try {
    const notes = writeTask(task, { ...options, folder: staging });
    rmSync(folder, { recursive: true, force: true });
    renameSync(staging, folder);
    return { id: task.id, folder, notes };
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

function writeTask(task: Task, options: { folder: string; seed: number; checks: Checks }): string[] {
  const { checks, usesAnswer } = options.checks;
  const notes: string[] = [];
  const folder = options.folder;
  const files = terminalStartingFiles(task, options.seed);
  for (const [path, content] of Object.entries(files)) write(join(folder, 'environment', 'files', path), content);
  const commands = task.golden.steps.filter((s) => s.tool === 'run_command').flatMap((s) => commandsUsed(String(s.arguments.command)));
  const packages = [...new Set(commands.flatMap((c) => (APT_PACKAGES[c] ? [APT_PACKAGES[c]] : [])))].sort();
  write(join(folder, 'environment', 'Dockerfile'), dockerfile(task, packages, Object.keys(files).length > 0));
  let instruction = task.instruction.trim();
  if (task.systemPrompt) {
    instruction = `${task.systemPrompt.trim()}\n\n${instruction}`;
    notes.push('the system prompt is prepended to instruction.md (Harbor has none)');
  }
  if (usesAnswer) {
    instruction += `\n\nWhen you are done, write your final answer to ${WORKDIR}/${ANSWER_FILE}.`;
    notes.push(`the final answer is read from ${WORKDIR}/${ANSWER_FILE} (Harbor agents do not submit one)`);
  }
  write(join(folder, 'instruction.md'), `${instruction}\n`);
  const spec = {
    format: 1,
    task: task.id,
    workdir: WORKDIR,
    // answer_number does not count numbers the instruction itself gives against the answer.
    instruction: task.instruction,
    answer_file: usesAnswer ? ANSWER_FILE : null,
    checks,
    initial: Object.fromEntries(Object.entries(files).sort(([a], [b]) => (a < b ? -1 : 1)).map(([path, content]) => [path, sha256(content)])),
  };
  write(join(folder, 'tests', 'gauntlet_task.json'), `${JSON.stringify(spec, null, 2)}\n`);
  write(join(folder, 'tests', 'gauntlet_grade.py'), HARBOR_GRADER);
  write(join(folder, 'tests', 'test.sh'), TEST_SH, true);
  write(join(folder, 'solution', 'solve.sh'), solveScript(task, usesAnswer), true);
  // Commands the checks run get their own timeouts; the rest of grading takes seconds.
  const commandMs = checks.filter((c) => c.check === 'command_output_equals').reduce((sum, c) => sum + (typeof c.timeoutMs === 'number' ? c.timeoutMs : 20_000), 0);
  write(join(folder, 'task.toml'), taskToml(task, options.seed, Math.ceil(60 + commandMs / 1000)));
  if (WorldOptions.parse(task.initialState).flakyTools.length > 0) notes.push('flaky tools are not reproduced (a shell has no such failures)');
  return notes;
}

/** Exports what can be exported; every task it cannot is refused with its reasons. */
export function exportHarborTasks(options: ExportOptions): ExportResult {
  const seed = options.seed ?? 1;
  const result: ExportResult = { exported: [], refused: [] };
  const folders = new Map<string, string>();
  for (const task of options.tasks) {
    const { reasons, checks } = refusals(task);
    const name = folderName(task);
    const clash = folders.get(name);
    if (clash !== undefined) reasons.push(`its folder name ${name} is taken by ${clash}`);
    const destination = reasons.length === 0 ? destinationProblem(join(options.dir, name), task) : null;
    if (destination !== null) reasons.push(destination);
    if (reasons.length > 0) {
      result.refused.push({ id: task.id, reasons });
      continue;
    }
    folders.set(name, task.id);
    result.exported.push(exportOne(task, { dir: options.dir, seed, checks }));
  }
  return result;
}
