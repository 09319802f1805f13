// Imports Harbor / Terminal-Bench 2 task folders (task.toml) and Terminal-Bench 1 ones (task.yaml)
// as tasks of the `harbor` environment: the work dir is mounted at the image's WORKDIR, the
// Dockerfile's offline build steps replay at reset, and the task's own tests grade it (harbor_tests).
// Whatever could not be reproduced is listed (adaptations, skipped network steps, missing tools,
// caps); a task that cannot run offline at all is rejected with every reason.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, join, posix, relative, sep } from 'node:path';
import { describeZodIssues, InputError, Task, type Difficulty, type JsonObject, type ToolInvocation } from '../../core/index.ts';
import { adaptTestScript } from './adapt-script.ts';
import { planBuild, type BuildPlan } from './build-plan.ts';
import type { HarborTestsParams } from './checks.ts';
import { readContent, readDockerfile, shellQuote, type DockerfileImage, type ImageFile } from './dockerfile.ts';
import { readTaskConfig, type TaskConfig } from './harbor-config.ts';
import type { HarborState } from './harbor-state.ts';
import { LIMIT_RANGES } from '../../sandbox/index.ts';
import { DEFAULT_ALIASES, hostProbe, imageGaps, type ImageGaps, type SandboxProbe } from './image.ts';
import { mapPaths, type PathMapping } from './paths.ts';
import type { PassRule } from './rewards.ts';
import { TaskFolder } from './task-files.ts';

export interface ImportOptions {
  /** What the sandbox has (default: this machine, whose /usr both sandbox backends see). */
  probe?: SandboxProbe;
  /** When a task passes, from its reward keys (default: every key at 1). */
  passRule?: PassRule;
  /**
   * Accept tasks that ship only a prebuilt `docker_image` (no Dockerfile). Their files cannot be
   * reproduced offline, so they run only on sandboxes that run images (`--sandbox k8s`).
   */
  prebuiltImages?: boolean;
}

/** Terminal-Bench's work dir, assumed for a prebuilt image whose task.toml names none. */
const PREBUILT_WORKDIR = '/app';

export interface ImportedTask {
  task: Task;
  dir: string;
  adaptations: string[];
  /** Network commands of the Dockerfile skipped at build time. */
  skipped: string[];
  /** What the task's scripts use that this machine's sandbox lacks. */
  missing: ImageGaps;
  /** Limits lowered from what task.toml asks, each with the reason. */
  caps: string[];
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
const DEFAULT_AGENT_TIMEOUT_SEC = 600;
/** The work dir is an in-memory file system: a task's storage_mb beyond this is capped. */
export const MAX_STORAGE_MB = 2048;
/** Harbor limits agents by time only; Gauntlet also counts turns, so imported tasks get many. */
export const IMPORTED_MAX_TURNS = 500;
const DIFFICULTIES: readonly Difficulty[] = ['easy', 'medium', 'hard'];
const MIB = 1024 * 1024;

/** python3 on the sandbox's PATH (both backends see the host's /usr). */
export function sandboxHasPython(): boolean {
  return hostProbe().hasCommand('python3');
}

interface Folder {
  text: Record<string, string>;
  binary: Record<string, string>;
  executables: string[];
}

/** A folder's files keyed by path relative to it: text as text, everything else as base64. */
function readFolder(files: TaskFolder, dir: string): Folder {
  const folder: Folder = { text: {}, binary: {}, executables: [] };
  for (const path of files.list(dir)) add(folder, relative(dir, path).split(sep).join('/'), readContent(files, path));
  return folder;
}

function add(folder: Folder, rel: string, file: ImageFile): void {
  if ('text' in file.content) folder.text[rel] = file.content.text;
  else folder.binary[rel] = file.content.bytes.toString('base64');
  if (file.executable) folder.executables.push(rel);
}

function difficultyOf(config: TaskConfig, adaptations: string[]): Difficulty {
  const given = config.difficulty?.trim().toLowerCase();
  if (given && (DIFFICULTIES as readonly string[]).includes(given)) return given as Difficulty;
  adaptations.push(given ? `difficulty "${config.difficulty}" is not easy/medium/hard; imported as medium` : 'no difficulty given; imported as medium');
  return 'medium';
}

interface Plan {
  problems: string[];
  adaptations: string[];
}

interface TestsPlan extends Folder {
  script: string;
  usesPython: boolean;
}

function planTests(files: TaskFolder, config: TaskConfig, plan: Plan): TestsPlan | null {
  const dir = files.root;
  const folder = readFolder(files, join(dir, 'tests'));
  const harbor = config.layout === 'harbor';
  const script = harbor ? 'test.sh' : 'run-tests.sh';
  const where = harbor ? 'tests/test.sh' : 'run-tests.sh';
  if (!harbor && existsSync(join(dir, 'run-tests.sh'))) add(folder, script, readContent(files, join(dir, 'run-tests.sh')));
  const original = folder.text[script];
  if (original === undefined) {
    plan.problems.push(folder.binary[script] !== undefined ? `${where} is not a text file` : `no ${where}: the task has no tests to grade it`);
    return null;
  }
  const testsDirVariable = harbor ? '/tests' : '$TEST_DIR';
  const shipped = [...Object.keys(folder.text), ...Object.keys(folder.binary)].map((f) => posix.basename(f));
  const adapted = adaptTestScript(original, { where, testsDirVariable, shipped });
  plan.adaptations.push(...adapted.adaptations);
  plan.problems.push(...adapted.problems);
  if (!adapted.runsTests) plan.problems.push(`${where} runs no tests once its network-fetching lines are skipped`);
  folder.text[script] = adapted.text;
  let usesPython = adapted.usesPython || Object.keys(folder.text).some((f) => f.endsWith('.py'));
  // Helper scripts the main one calls (a migrated TB1 task ships run-uv-pytest.sh) need the same treatment.
  for (const helper of Object.keys(folder.text).filter((f) => f !== script && f.endsWith('.sh'))) {
    const result = adaptTestScript(folder.text[helper]!, { where: `tests/${helper}`, testsDirVariable, shipped });
    plan.adaptations.push(...result.adaptations);
    plan.problems.push(...result.problems);
    usesPython ||= result.usesPython;
    folder.text[helper] = result.text;
  }
  return { ...folder, script, usesPython };
}

function planSolution(files: TaskFolder, config: TaskConfig, plan: Plan): (Folder & { script: string }) | null {
  const dir = files.root;
  const harbor = config.layout === 'harbor';
  const folder = harbor ? readFolder(files, join(dir, 'solution')) : { text: {}, binary: {}, executables: [] };
  const script = harbor ? 'solve.sh' : 'solution.sh';
  if (!harbor && existsSync(join(dir, 'solution.sh'))) add(folder, script, readContent(files, join(dir, 'solution.sh')));
  const text = folder.text[script];
  if (text === undefined) {
    const yaml = !harbor && existsSync(join(dir, 'solution.yaml'));
    plan.problems.push(yaml ? 'solution.yaml (terminal keystrokes) is not supported; expected solution.sh' : `no ${harbor ? 'solution/solve.sh' : 'solution.sh'}: a golden solution is needed to prove the task solvable`);
    return null;
  }
  const adapted = adaptTestScript(text, { where: harbor ? 'solution/solve.sh' : 'solution.sh', testsDirVariable: harbor ? '/tests' : '$TEST_DIR', shipped: [] });
  plan.adaptations.push(...adapted.adaptations);
  plan.problems.push(...adapted.problems);
  folder.text[script] = adapted.text;
  return { ...folder, script };
}

function readImage(files: TaskFolder, config: TaskConfig, plan: Plan, options: ImportOptions): DockerfileImage | null {
  if (config.dockerfile) {
    const image = readDockerfile({ path: config.dockerfile, context: config.context, where: files.where(config.dockerfile), files });
    plan.problems.push(...image.problems);
    plan.adaptations.push(...image.adaptations);
    if (image.baseImage) plan.adaptations.push(`base image ${image.baseImage} is pulled only by sandboxes that run images (--sandbox k8s); elsewhere commands run on the sandbox's system (see "missing" for what it lacks)`);
    return image;
  }
  if (config.dockerImage && options.prebuiltImages) {
    if (/\s/.test(config.dockerImage)) plan.problems.push(`docker_image ${JSON.stringify(config.dockerImage)} contains whitespace`);
    plan.adaptations.push(`prebuilt image ${config.dockerImage}: the task runs only on sandboxes that run images (--sandbox k8s), which start from it; what it holds is not checked at import`);
    return { baseImage: config.dockerImage, workdir: config.workdir ?? PREBUILT_WORKDIR, steps: [], env: {}, adaptations: [], problems: [] };
  }
  if (config.dockerImage) plan.problems.push(`the task uses the prebuilt image ${config.dockerImage} and ships no Dockerfile; its contents cannot be reproduced offline (import with --prebuilt-images to run it only on --sandbox k8s)`);
  else plan.problems.push(`no Dockerfile (expected ${config.layout === 'harbor' ? 'environment/Dockerfile' : 'Dockerfile'}): the task's starting files are unknown`);
  return null;
}

/** Golden steps: place the solution's files, then run its script from the work dir as Harbor's oracle does. */
function goldenSteps(solution: Folder & { script: string }, options: { env: Record<string, string>; timeoutSec: number; mapping: PathMapping }): ToolInvocation[] {
  const steps: ToolInvocation[] = Object.keys(solution.text)
    .sort()
    .map((path) => ({ tool: 'write_file', arguments: { path: `${SOLUTION_DIR}/${path}`, content: mapPaths(solution.text[path]!, options.mapping) } }));
  for (const path of Object.keys(solution.binary).sort()) {
    const target = shellQuote(`${SOLUTION_DIR}/${path}`);
    const wrapped = solution.binary[path]!.replace(/.{1,76}/g, '$&\n');
    steps.push({ tool: 'run_command', arguments: { command: `mkdir -p "$(dirname ${target})" && base64 -d > ${target} <<'GAUNTLET_BASE64'\n${wrapped}GAUNTLET_BASE64` } });
  }
  const env = Object.entries(options.env).map(([k, v]) => `${k}=${shellQuote(v)}`);
  const run = `${env.length > 0 ? `env ${env.join(' ')} ` : ''}bash ${SOLUTION_DIR}/${solution.script}`;
  const command = `${run}; status=$?; rm -rf ${SOLUTION_DIR}; exit $status`;
  return [...steps, { tool: 'run_command', arguments: { command, timeoutSeconds: options.timeoutSec } }];
}

/**
 * The task's time and memory as the sandbox will be asked for them (harborSandboxOptions): outside
 * the ranges it accepts, every rollout would fail; said now, naming the field.
 */
function limitProblems(config: TaskConfig): string[] {
  const where = config.layout === 'harbor' ? 'task.toml' : 'task.yaml';
  const problems: string[] = [];
  const timeout = LIMIT_RANGES.timeoutMs.max / 1000;
  const seconds: [string, number | undefined][] = config.layout === 'harbor'
    ? [['[agent] timeout_sec', config.agentTimeoutSec], ['[verifier] timeout_sec', config.verifierTimeoutSec], ['[environment] build_timeout_sec', config.buildTimeoutSec]]
    : [['max_agent_timeout_sec', config.agentTimeoutSec], ['max_test_timeout_sec', config.verifierTimeoutSec]];
  for (const [field, value] of seconds) {
    if (value !== undefined && value > timeout) problems.push(`${where}: ${field} = ${value} is longer than a sandbox command may run (at most ${timeout} s)`);
    if (value !== undefined && Math.round(value * 1000) < 1) problems.push(`${where}: ${field} = ${value} is shorter than a millisecond`);
  }
  const memory = { min: LIMIT_RANGES.memoryBytes.min / MIB, max: LIMIT_RANGES.memoryBytes.max / MIB };
  if (!(config.memoryMb >= memory.min && config.memoryMb <= memory.max)) problems.push(`${where}: [environment] memory ${config.memoryMb} MB is outside what a sandbox can be given (${memory.min} to ${memory.max} MB)`);
  const storageMin = LIMIT_RANGES.diskBytes.min / MIB;
  if (config.storageMb < storageMin) problems.push(`${where}: [environment] storage ${config.storageMb} MB is less than a sandbox's smallest work dir (${storageMin} MB)`);
  return problems;
}

function taskId(name: string, adaptations: string[]): string {
  const id = name.replace(/[^A-Za-z0-9_.:/-]/g, '-');
  if (id !== name) adaptations.push(`name "${name}" has characters task ids cannot hold; id ${id}`);
  return id;
}

/**
 * One task folder → a `harbor` task. Throws `TaskRejected` (an InputError) listing every reason
 * when the task cannot run offline, and InputError for a folder that is not a valid task.
 */
export function importTaskFolder(dir: string, options: ImportOptions = {}): ImportedTask {
  const files = new TaskFolder(dir);
  const config = readTaskConfig(dir, files);
  const plan: Plan = { problems: [...config.problems, ...limitProblems(config)], adaptations: [...config.notes] };
  if (config.gpus > 0) plan.problems.push(`the task needs ${config.gpus} GPU(s); sandboxes have none`);
  const image = readImage(files, config, plan, options);
  const prebuilt = image !== null && !config.dockerfile;
  if (prebuilt && config.workdir === undefined) plan.adaptations.push(`the prebuilt image's WORKDIR is unknown at import; ${PREBUILT_WORKDIR} assumed (set [environment] workdir in task.toml to change it)`);
  const workdir = config.workdir ?? image?.workdir ?? null;
  if (image && workdir === null) plan.problems.push('the Dockerfile sets no WORKDIR (expected e.g. `WORKDIR /app`, the folder the tests run in)');
  if (workdir === '/') plan.problems.push('the WORKDIR is / itself; the work dir must be a folder of its own (e.g. /app)');
  const build: BuildPlan | null = image && workdir && workdir !== '/' ? planBuild(image, { workdir }) : null;
  if (build) {
    plan.problems.push(...build.problems);
    plan.adaptations.push(...build.adaptations);
  }
  const tests = planTests(files, config, plan);
  const solution = planSolution(files, config, plan);
  const probe = options.probe ?? hostProbe();
  if (tests?.usesPython && !prebuilt && !probe.hasCommand('python3')) plan.problems.push("the tests need python3, which the sandbox does not have (install python3 on this machine's /usr)");
  if (plan.problems.length > 0 || !build || !tests || !solution || !workdir) throw new TaskRejected(dir, plan.problems);

  const { adaptations } = plan;
  const pythonFiles = (folder: Folder) => Object.keys(folder.text).filter((f) => f.endsWith('.py'));
  // A prebuilt image is the system the task runs on: this machine's gaps say nothing about it.
  const missing: ImageGaps = prebuilt
    ? { commands: [], pythonModules: [], aliased: [] }
    : imageGaps(
        {
          scripts: [
            ...Object.entries(tests.text).flatMap(([path, text]) => (path.endsWith('.sh') ? [text] : [])),
            solution.text[solution.script]!,
            ...build.steps.flatMap((s) => (s.kind === 'run' ? [s.script] : [])),
          ],
          pythonSources: [...pythonFiles(tests).map((f) => tests.text[f]!), ...pythonFiles(solution).map((f) => solution.text[f]!)],
        },
        {
          probe,
          aliases: DEFAULT_ALIASES,
          provided: build.provided,
          localModules: new Set([...build.localModules, ...[...pythonFiles(tests), ...pythonFiles(solution)].map((f) => posix.basename(f, '.py'))]),
        },
      );
  const caps: string[] = [];
  if (config.storageMb > MAX_STORAGE_MB) caps.push(`storage ${config.storageMb} MB capped at ${MAX_STORAGE_MB} MB (the work dir lives in memory)`);
  caps.push(`turns capped at ${IMPORTED_MAX_TURNS} (Harbor limits only time)`);
  const agentSec = config.agentTimeoutSec ?? DEFAULT_AGENT_TIMEOUT_SEC;
  if (config.agentTimeoutSec === undefined) adaptations.push(`no agent timeout given; Harbor's default ${DEFAULT_AGENT_TIMEOUT_SEC} s used`);

  const instruction = mapPaths(config.instruction.trim(), build.mapping);
  if (instruction !== config.instruction.trim()) adaptations.push('paths to image folders outside the WORKDIR rewritten in the instruction');
  const solutionMapping: PathMapping = [['/solution', posix.join(workdir, SOLUTION_DIR)], ...build.mapping];
  const state: HarborState = {
    workdir,
    build: build.steps,
    env: build.env,
    aliases: DEFAULT_ALIASES,
    timeouts: { agentSec, verifierSec: config.verifierTimeoutSec, buildSec: config.buildTimeoutSec },
    resources: { memoryMb: config.memoryMb, storageMb: Math.min(config.storageMb, MAX_STORAGE_MB) },
    ...(image?.baseImage && !/\s/.test(image.baseImage) ? { image: image.baseImage } : {}),
    ...(prebuilt ? { imageOnly: true as const } : {}),
  };
  const params: HarborTestsParams & { check: 'harbor_tests' } = {
    check: 'harbor_tests',
    layout: config.layout,
    containerWorkdir: workdir,
    testsDir: '/tests',
    imagePaths: build.imagePaths,
    files: tests.text,
    binaryFiles: tests.binary,
    executables: tests.executables,
    script: tests.script,
    timeoutMs: Math.round(config.verifierTimeoutSec * 1000),
    env: config.verifierEnv,
    imageEnv: build.env,
    aliases: DEFAULT_ALIASES,
    passRule: options.passRule ?? { require: [], min: {}, default: 1 },
  };
  const parsed = Task.safeParse({
    id: taskId(config.name, adaptations),
    env: 'harbor',
    instruction,
    initialState: state,
    verifier: { checks: [params] },
    golden: { steps: goldenSteps(solution, { env: config.solutionEnv, timeoutSec: agentSec, mapping: solutionMapping }) },
    limits: { deadlineMs: Math.round(agentSec * 1000), maxTurns: IMPORTED_MAX_TURNS },
    tags: { domain: config.category?.trim() || 'terminal', difficulty: difficultyOf(config, adaptations), labels: [...new Set(config.labels)] },
    metadata: {
      source: { format: config.layout, schemaVersion: config.schemaVersion, name: config.fullName ?? config.name, folder: basename(dir) },
      // Round-tripped through JSON so TOML dates and the like become plain values.
      ...(Object.keys(config.metadata).length > 0 ? { harbor: JSON.parse(JSON.stringify(config.metadata)) as JsonObject } : {}),
      adaptations,
      skippedBuildSteps: build.skipped,
      missing: { ...missing },
      caps,
    },
  });
  // Whatever the config let through that a task cannot hold rejects this task, not the whole import.
  if (!parsed.success) throw new TaskRejected(dir, [`not a valid task once imported:\n${describeZodIssues(parsed.error.issues)}`]);
  const task = parsed.data;
  return { task, dir, adaptations, skipped: build.skipped, missing, caps };
}

export interface DirectoryImport {
  imported: ImportedTask[];
  rejected: { dir: string; reasons: string[] }[];
}

function isTaskFolder(dir: string): boolean {
  return existsSync(join(dir, 'task.toml')) || existsSync(join(dir, 'task.yaml'));
}

/** Folders never searched for tasks. */
const SKIPPED_FOLDERS = new Set(['node_modules', '__pycache__']);
const MAX_DEPTH = 8;

/** Task folders at or below `dir`, in path order; a task folder's own sub-folders are not searched. */
function findTaskFolders(dir: string, depth = 0): string[] {
  if (isTaskFolder(dir)) return [dir];
  if (depth >= MAX_DEPTH) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !e.name.startsWith('.') && !SKIPPED_FOLDERS.has(e.name))
    .map((e) => e.name)
    .sort()
    .flatMap((name) => findTaskFolders(join(dir, name), depth + 1));
}

/**
 * A task folder, or a folder holding task folders at any depth, in either layout. Each is
 * imported or rejected on its own; a second task with an id already seen is rejected.
 */
export function importTaskDirectory(dir: string, options: ImportOptions = {}): DirectoryImport {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new InputError(dir, 'not a directory', 'a task folder or a folder of task folders');
  const folders = findTaskFolders(dir);
  if (folders.length === 0) throw new InputError(dir, 'no task folders found', 'folders holding task.toml (Harbor) or task.yaml (Terminal-Bench 1), at any depth');
  const probe = options.probe ?? hostProbe();
  const result: DirectoryImport = { imported: [], rejected: [] };
  const seen = new Map<string, string>();
  for (const folder of folders) {
    try {
      const imported = importTaskFolder(folder, { ...options, probe });
      const first = seen.get(imported.task.id);
      if (first !== undefined) throw new TaskRejected(folder, [`duplicate task id ${imported.task.id} (already imported from ${first})`]);
      seen.set(imported.task.id, folder);
      result.imported.push(imported);
    } catch (error) {
      if (error instanceof TaskRejected) result.rejected.push({ dir: folder, reasons: error.reasons });
      else if (error instanceof InputError) result.rejected.push({ dir: folder, reasons: [error.message] });
      else throw error;
    }
  }
  return result;
}
