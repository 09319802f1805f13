// Imports Harbor / Terminal-Bench 2 task folders (task.toml) and Terminal-Bench 1 ones (task.yaml)
// as tasks of the `terminal` environment, graded offline by the `harbor_tests` check. Everything
// that cannot be reproduced exactly is recorded as an adaptation; a task that cannot run offline
// at all is rejected with its reasons rather than imported with a verifier that can never pass.
import { accessSync, constants, existsSync, readdirSync, statSync } from 'node:fs';
import { basename, join, posix, relative, sep } from 'node:path';
import { InputError, Task, type Difficulty, type JsonObject, type ToolInvocation } from '../../core/index.ts';
import { adaptTestScript } from './adapt-script.ts';
import type { HarborTestsParams } from './checks.ts';
import { readDockerfile, readText } from './dockerfile.ts';
import { readTaskConfig, type TaskConfig } from './harbor-config.ts';
import { imagePlacement, mapPaths, relativeInside, SANDBOX_WORKDIR, type PathMapping } from './paths.ts';

export interface ImportOptions {
  /** Whether python3 runs in the sandbox (default: found on the sandbox's PATH on this machine). */
  python?: boolean;
}

export interface ImportedTask {
  task: Task;
  adaptations: string[];
}

/** A task folder that cannot run offline; `reasons` lists every problem found. */
export class TaskRejected extends InputError {
  readonly reasons: string[];
  constructor(dir: string, reasons: string[]) {
    super(dir, `cannot be imported to run offline:\n${reasons.map((r) => `  - ${r}`).join('\n')}`);
    this.name = 'TaskRejected';
    this.reasons = reasons;
  }
}

/** Where the golden solution's files go in the work dir while it runs (removed afterwards). */
const SOLUTION_DIR = '.harbor-solution';
/** The terminal environment's longest command. */
const MAX_COMMAND_SECONDS = 120;
const DEFAULT_AGENT_TIMEOUT_SEC = 600;
const DIFFICULTIES: readonly Difficulty[] = ['easy', 'medium', 'hard'];

/** python3 on the sandbox's PATH (both backends see the host's /usr). */
export function sandboxHasPython(): boolean {
  return ['/usr/local/bin/python3', '/usr/bin/python3', '/bin/python3'].some((path) => {
    try {
      accessSync(path, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

function walkFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((e) => (e.isDirectory() ? walkFiles(join(dir, e.name)) : e.isFile() ? [join(dir, e.name)] : []));
}

/** Text files under `dir`, keyed by path relative to it; binary ones become problems. */
function readFolder(dir: string, root: string, problems: string[]): Record<string, string> {
  const files: Record<string, string> = {};
  for (const path of walkFiles(dir)) {
    const rel = relative(dir, path).split(sep).join('/');
    const text = readText(path);
    if (text === null) problems.push(`${relative(root, path)} is binary; only text files can be placed in a sandbox`);
    else files[rel] = text;
  }
  return files;
}

function rewrite(text: string, mapping: PathMapping, what: string, changed: string[]): string {
  const out = mapPaths(text, mapping);
  if (out !== text) changed.push(what);
  return out;
}

/** The terminal tool calls that place the solution's files and run its script from the work dir. */
function goldenSteps(files: Record<string, string>, script: string, timeoutSec: number): ToolInvocation[] {
  const writes = Object.keys(files)
    .sort()
    .map((path) => ({ tool: 'write_file', arguments: { path: `${SOLUTION_DIR}/${path}`, content: files[path]! } }));
  const command = `bash ${SOLUTION_DIR}/${script}; status=$?; rm -rf ${SOLUTION_DIR}; exit $status`;
  return [...writes, { tool: 'run_command', arguments: { command, timeoutSeconds: Math.min(MAX_COMMAND_SECONDS, Math.max(1, Math.round(timeoutSec))) } }];
}

function difficultyOf(config: TaskConfig, adaptations: string[]): Difficulty {
  const given = config.difficulty?.trim().toLowerCase();
  if (given && (DIFFICULTIES as readonly string[]).includes(given)) return given as Difficulty;
  adaptations.push(given ? `difficulty "${config.difficulty}" is not easy/medium/hard; imported as medium` : 'no difficulty given; imported as medium');
  return 'medium';
}

interface TestsPlan {
  files: Record<string, string>;
  script: string;
  usesPython: boolean;
}

function planTests(dir: string, config: TaskConfig, problems: string[], adaptations: string[]): TestsPlan | null {
  const testsDir = join(dir, 'tests');
  const files = readFolder(testsDir, dir, problems);
  const script = config.layout === 'harbor' ? 'test.sh' : 'run-tests.sh';
  const where = config.layout === 'harbor' ? 'tests/test.sh' : 'run-tests.sh';
  if (config.layout === 'terminal-bench-1') {
    const path = join(dir, 'run-tests.sh');
    const text = existsSync(path) ? readText(path) : null;
    if (text !== null) files[script] = text;
  }
  const original = files[script];
  if (original === undefined) {
    problems.push(`no ${where}: the task has no tests to grade it`);
    return null;
  }
  const testsDirVariable = config.layout === 'harbor' ? '/tests' : '$TEST_DIR';
  const shipped = Object.keys(files).map((f) => posix.basename(f));
  const adapted = adaptTestScript(original, { where, testsDirVariable, shipped });
  adaptations.push(...adapted.adaptations);
  problems.push(...adapted.problems);
  if (!adapted.runsTests) problems.push(`${where} runs no tests once its network-fetching lines are skipped`);
  files[script] = adapted.text;
  let usesPython = adapted.usesPython || Object.keys(files).some((f) => f.endsWith('.py'));
  // Helper scripts the main one calls (a migrated TB1 task ships run-uv-pytest.sh) need the same treatment.
  for (const helper of Object.keys(files).filter((f) => f !== script && f.endsWith('.sh'))) {
    const result = adaptTestScript(files[helper]!, { where: `tests/${helper}`, testsDirVariable, shipped });
    adaptations.push(...result.adaptations);
    problems.push(...result.problems);
    usesPython ||= result.usesPython;
    files[helper] = result.text;
  }
  return { files, script, usesPython };
}

function planSolution(dir: string, config: TaskConfig, problems: string[], adaptations: string[]): { files: Record<string, string>; script: string } | null {
  if (config.layout === 'harbor') {
    const files = readFolder(join(dir, 'solution'), dir, problems);
    if (files['solve.sh'] === undefined) {
      problems.push('no solution/solve.sh: a golden solution is needed to prove the task solvable');
      return null;
    }
    const adapted = adaptTestScript(files['solve.sh'], { where: 'solution/solve.sh', testsDirVariable: '/tests', shipped: [] });
    adaptations.push(...adapted.adaptations);
    problems.push(...adapted.problems);
    return { files: { ...files, 'solve.sh': adapted.text }, script: 'solve.sh' };
  }
  const path = join(dir, 'solution.sh');
  const text = existsSync(path) ? readText(path) : null;
  if (text === null) {
    problems.push(existsSync(join(dir, 'solution.yaml')) ? 'solution.yaml (terminal keystrokes) is not supported; expected solution.sh' : 'no solution.sh: a golden solution is needed to prove the task solvable');
    return null;
  }
  const adapted = adaptTestScript(text, { where: 'solution.sh', testsDirVariable: '$TEST_DIR', shipped: [] });
  adaptations.push(...adapted.adaptations);
  problems.push(...adapted.problems);
  return { files: { 'solution.sh': adapted.text }, script: 'solution.sh' };
}

/** Paths the harness owns in the container; image files there are not placed. */
const HARNESS_DIRS = ['/tests', '/solution', '/logs'];

interface ImagePlan {
  workdir: string;
  files: Map<string, string>;
  /** Image files outside the WORKDIR that will be placed under IMAGE_ROOT. */
  outside: string[];
  directories: Set<string>;
}

function planImage(dir: string, config: TaskConfig, problems: string[], adaptations: string[]): ImagePlan {
  let workdir = config.workdir ?? null;
  let files = new Map<string, string>();
  let directories = new Set<string>();
  if (config.dockerfile) {
    const image = readDockerfile({ path: config.dockerfile, context: config.context, where: relative(dir, config.dockerfile).split(sep).join('/') });
    problems.push(...image.problems);
    adaptations.push(...image.adaptations);
    if (image.baseImage) adaptations.push(`base image ${image.baseImage} not used: commands run on the sandbox's host system`);
    workdir ??= image.workdir;
    files = image.files;
    directories = image.directories;
    if (workdir === null) problems.push('the Dockerfile sets no WORKDIR (expected e.g. `WORKDIR /app`, the folder the tests run in)');
  } else if (config.dockerImage) {
    problems.push(`the task uses the prebuilt image ${config.dockerImage} and ships no Dockerfile; its contents cannot be reproduced offline`);
  } else {
    problems.push(`no Dockerfile (expected ${config.layout === 'harbor' ? 'environment/Dockerfile' : 'Dockerfile'}): the task's starting files are unknown`);
  }
  const resolved = workdir ?? '/app';
  const outside: string[] = [];
  for (const path of files.keys()) {
    if (relativeInside(path, resolved) !== null) continue;
    if (HARNESS_DIRS.some((h) => path === h || path.startsWith(`${h}/`))) adaptations.push(`${path} not placed: the harness owns that folder`);
    else outside.push(path);
  }
  return { workdir: resolved, files, outside, directories };
}

/**
 * One task folder → a `terminal` task. Throws `TaskRejected` (an InputError) listing every reason
 * when the task cannot run offline, and InputError for a folder that is not a valid task.
 */
export function importTaskFolder(dir: string, options: ImportOptions = {}): ImportedTask {
  const config = readTaskConfig(dir);
  const problems = [...config.problems];
  const adaptations = [...config.notes];
  if (config.gpus > 0) problems.push(`the task needs ${config.gpus} GPU(s); sandboxes have none`);

  const image = planImage(dir, config, problems, adaptations);
  const containerWorkdir = image.workdir;
  const imagePaths = imagePlacement(image.outside, image.directories);
  const toSandbox: PathMapping = [
    [containerWorkdir, SANDBOX_WORKDIR],
    ['/solution', `${SANDBOX_WORKDIR}/${SOLUTION_DIR}`],
    ...Object.entries(imagePaths).map(([from, rel]) => [from, `${SANDBOX_WORKDIR}/${rel}`] as const),
  ];
  for (const [from, rel] of Object.entries(imagePaths)) adaptations.push(`${from} placed at ${rel} in the work dir (the sandbox's one writable folder); paths to it are rewritten`);
  const rewritten: string[] = [];
  const initialFiles: Record<string, string> = {};
  for (const [path, content] of image.files) {
    const prefix = Object.keys(imagePaths).find((from) => path === from || path.startsWith(`${from}/`));
    const rel = relativeInside(path, containerWorkdir) ?? (prefix ? `${imagePaths[prefix]}${path.slice(prefix.length)}` : null);
    if (rel !== null) initialFiles[rel] = rewrite(content, toSandbox, rel, rewritten);
  }

  const tests = planTests(dir, config, problems, adaptations);
  const solution = planSolution(dir, config, problems, adaptations);
  const python = options.python ?? sandboxHasPython();
  if (tests?.usesPython && !python) problems.push("the tests need python3, which the sandbox does not have (install python3 on this machine's /usr)");
  if (problems.length > 0) throw new TaskRejected(dir, problems);

  const instruction = rewrite(config.instruction.trim(), toSandbox, 'the instruction', rewritten);
  const solutionFiles = Object.fromEntries(Object.entries(solution!.files).map(([p, c]) => [p, rewrite(c, toSandbox, `solution ${p}`, rewritten)]));
  if (rewritten.length > 0) adaptations.push(`paths under ${containerWorkdir} rewritten to the sandbox work dir ${SANDBOX_WORKDIR} in: ${rewritten.join(', ')}`);
  if (containerWorkdir !== SANDBOX_WORKDIR) adaptations.push(`at grading, ${containerWorkdir}, /tests and /logs in the test files map into the sandbox work dir`);
  const difficulty = difficultyOf(config, adaptations);
  if (config.agentTimeoutSec === undefined) adaptations.push(`no agent timeout given; Harbor's default ${DEFAULT_AGENT_TIMEOUT_SEC} s used`);

  const params: HarborTestsParams & { check: 'harbor_tests' } = {
    check: 'harbor_tests',
    containerWorkdir,
    testsDir: '/tests',
    imagePaths,
    files: tests!.files,
    script: tests!.script,
    timeoutMs: Math.round(config.verifierTimeoutSec * 1000),
    env: config.verifierEnv,
  };
  const task = Task.parse({
    id: `harbor/${config.name.replace(/[^A-Za-z0-9_.:/-]/g, '-')}`,
    env: 'terminal',
    instruction,
    initialState: { files: initialFiles },
    verifier: { checks: [params] },
    golden: { steps: goldenSteps(solutionFiles, solution!.script, config.agentTimeoutSec ?? DEFAULT_AGENT_TIMEOUT_SEC) },
    limits: { deadlineMs: Math.round((config.agentTimeoutSec ?? DEFAULT_AGENT_TIMEOUT_SEC) * 1000) },
    tags: { domain: config.category ?? 'terminal', difficulty, labels: [...new Set(config.labels)] },
    metadata: {
      source: { format: config.layout, schemaVersion: config.schemaVersion, name: config.fullName ?? config.name, folder: basename(dir) },
      // Round-tripped through JSON so TOML dates and the like become plain values.
      ...(Object.keys(config.metadata).length > 0 ? { harbor: JSON.parse(JSON.stringify(config.metadata)) as JsonObject } : {}),
      adaptations,
    },
  });
  return { task, adaptations };
}

export interface DirectoryImport {
  imported: ImportedTask[];
  rejected: { dir: string; reasons: string[] }[];
}

function isTaskFolder(dir: string): boolean {
  return existsSync(join(dir, 'task.toml')) || existsSync(join(dir, 'task.yaml'));
}

/**
 * A task folder, or a folder of task folders (searched one level down, plus a `tasks/` folder).
 * Each folder is imported or rejected on its own; duplicate ids are rejected after the first.
 */
export function importTaskDirectory(dir: string, options: ImportOptions = {}): DirectoryImport {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new InputError(dir, 'not a directory', 'a task folder or a folder of task folders');
  const candidates = isTaskFolder(dir)
    ? [dir]
    : readdirSync(dir, { withFileTypes: true })
        .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
        .map((e) => join(dir, e.name))
        .sort();
  const folders = candidates.flatMap((c) => (isTaskFolder(c) ? [c] : basename(c) === 'tasks' ? importableChildren(c) : []));
  if (folders.length === 0) throw new InputError(dir, 'no task folders found', 'folders holding task.toml (Harbor) or task.yaml (Terminal-Bench 1)');
  const result: DirectoryImport = { imported: [], rejected: [] };
  const seen = new Set<string>();
  for (const folder of folders) {
    try {
      const imported = importTaskFolder(folder, options);
      if (seen.has(imported.task.id)) throw new TaskRejected(folder, [`duplicate task id ${imported.task.id}`]);
      seen.add(imported.task.id);
      result.imported.push(imported);
    } catch (error) {
      if (error instanceof TaskRejected) result.rejected.push({ dir: folder, reasons: error.reasons });
      else if (error instanceof InputError) result.rejected.push({ dir: folder, reasons: [error.message] });
      else throw error;
    }
  }
  return result;
}

function importableChildren(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => join(dir, e.name))
    .filter(isTaskFolder)
    .sort();
}
