// The runner is the only interpreter of a run's settings: everything that changes behaviour is
// validated and resolved here, into the RunConfig that is stored with the run, together with the
// content of every task. Front ends (CLI, HTTP) only collect settings and restate errors.
import { accessSync, constants } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import { z } from 'zod';
import { needsTextCompletion } from '../agent/index.ts';
import { ContextPolicySpec, errorMessage, InputError, MAX_TIMER_MS, RunConfig, SamplingParams, taskHash, unevenGroups, type Store, type StoredTask, type Task } from '../core/index.ts';
import { FORMAT_NAMES } from '../formats/index.ts';
import { resolvePerturbations } from '../perturb/index.ts';
import { environmentNames, getEnvironment, loadTaskFile, needsDefaultImage, runsOnlyInImage, taskProblemLine, taskProblems, type EnvironmentDefinition } from '../envs/index.ts';
import { parseModelSpec, rejectCredentials } from '../model/index.ts';
import { environmentRewardConfig, parseRewardConfig, rewardConfigJson, rewardNeeds, rewardsByEnvironment, type RewardConfig } from '../reward/index.ts';
import { checkK8sSandboxes, probeRemoteSandbox, REMOTE_URL_VARIABLE, remoteServerFromEnv, sandboxAvailability } from '../sandbox/index.ts';

/** Settings as a front end collected them (a config file merged with flags); validated by `resolveRun`. */
export type RunRequest = z.input<typeof RunConfig>;

export interface ResolvedRun {
  config: RunConfig;
  /** The tasks, in run order, with their content as it will be stored. */
  tasks: Task[];
}

/** A request timeout never longer than this unless asked for. */
export const DEFAULT_REQUEST_TIMEOUT_CAP_MS = 120_000;

/** Options the text-tools scaffold reads from `modelOptions`, so a resumed run rebuilds the same client. */
export const TextToolsOptions = z.object({
  template: z.string({ error: 'the text-tools scaffold needs a chat template (--template PATH)' }).min(1),
  toolFormat: z.enum(FORMAT_NAMES, { error: `a tool-call format: one of ${FORMAT_NAMES.join(', ')}` }),
  tokenizer: z.string().optional(),
  sendTokenIds: z.boolean().default(false),
});

/**
 * A text-tools run must choose its completion limit. Left out, vLLM and SGLang stop every
 * `/v1/completions` reply after 16 tokens, and a run would score each cut as the model's failure.
 * No default is sent instead: one too large for the engine's context makes it refuse prompt +
 * limit (HTTP 400), an infra error on every long rollout, so the limit is the user's to fit.
 */
function refuseEngineDefaultLimit(sampling: SamplingParams): void {
  if (sampling.maxTokens !== undefined || sampling.extra?.max_tokens !== undefined) return;
  throw new InputError(
    'sampling.maxTokens',
    'missing: the text-tools scaffold calls /v1/completions, where vLLM and SGLang stop every reply after 16 tokens unless the request sets max_tokens',
    'a completion limit per call (--max-tokens N, e.g. 4096) that fits the engine\'s context beside the longest prompt: the engine refuses a larger one (HTTP 400), recorded as an infra error',
  );
}

/**
 * The per-request timeout a rollout uses: the configured one, else half its deadline (at most two
 * minutes), so a hung endpoint times out — and is retried or reported as infrastructure — well
 * before the deadline would score it as the model's failure.
 */
export function requestTimeoutFor(config: Pick<RunConfig, 'requestTimeoutMs'>, deadlineMs: number): number {
  return config.requestTimeoutMs ?? Math.max(1, Math.min(DEFAULT_REQUEST_TIMEOUT_CAP_MS, Math.floor(deadlineMs / 2)));
}

function describeValue(value: unknown): string {
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  const text = JSON.stringify(value);
  return text === undefined ? String(value) : text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** Edit distance, for suggesting the setting a typo meant. */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(previous[j]! + 1, row[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    previous = row;
  }
  return previous[b.length]!;
}

/** The known name a misspelling most likely meant (case-insensitive, at most a third of it changed), if any. */
export function closestName(name: string, known: readonly string[]): string | undefined {
  const scored = known.map((k) => ({ k, d: distance(name.toLowerCase(), k.toLowerCase()) })).sort((a, b) => a.d - b.d);
  const best = scored[0];
  return best && best.d <= Math.max(1, Math.floor(name.length / 3)) ? best.k : undefined;
}

/** Setting names a request may hold, per level that is a fixed set of fields (free-form maps such as modelOptions are not). */
const KNOWN_KEYS: { at: string; keys: readonly string[] }[] = [
  { at: '', keys: Object.keys(RunConfig.shape) },
  { at: 'sampling', keys: Object.keys(SamplingParams.shape) },
  { at: 'context', keys: Object.keys(ContextPolicySpec.shape) },
];

/**
 * A key the settings do not know is an error, not a silent default: `epoch: 5` would otherwise run
 * one epoch. Located at the key (`epoch`, `sampling.temprature`), listing the valid ones. Exported
 * for loaders of settings files, which check the names before anything else reads a setting, so a
 * misspelt `env:` is named as such rather than reported as no environment given.
 */
export function rejectUnknownKeys(request: Readonly<Record<string, unknown>>): void {
  for (const { at, keys } of KNOWN_KEYS) {
    const level: unknown = at === '' ? request : request[at];
    if (level === null || typeof level !== 'object' || Array.isArray(level)) continue;
    const unknown = Object.keys(level).find((key) => !keys.includes(key));
    if (unknown === undefined) continue;
    const guess = closestName(unknown, keys);
    const where = at === '' ? unknown : `${at}.${unknown}`;
    throw new InputError(where, `not a ${at === '' ? 'run' : at} setting${guess ? ` (did you mean "${guess}"?)` : ''}`, `one of ${keys.join(', ')}`);
  }
}

/** zod's names for types, in the words a person writing a config would use. */
const TYPE_WORDS: Record<string, string> = {
  number: 'a finite number',
  int: 'a whole number',
  string: 'text',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping (key: value)',
  record: 'a mapping (key: value)',
  null: 'nothing (null)',
};

/** What a zod issue wanted, in plain words: `a whole number ≥ 1`, `one of a, b, c`, `a list of environment names`. */
export function expectedOf(issue: z.core.$ZodIssue, where: string): string {
  switch (issue.code) {
    case 'invalid_type': {
      // A schema's own message ("a finite number of epochs") is already in plain words.
      if (!issue.message.startsWith('Invalid input')) return issue.message;
      if (where === 'envs') return 'a list of environment names';
      if (where === 'taskIds' || where === 'taskFiles') return `a list of ${where === 'taskIds' ? 'task ids' : 'task file paths'}`;
      return TYPE_WORDS[issue.expected] ?? issue.expected;
    }
    case 'invalid_value':
      return issue.values.length === 1 ? JSON.stringify(issue.values[0]) : `one of ${issue.values.map((v) => String(v)).join(', ')}`;
    case 'too_small':
    case 'too_big': {
      // A custom message (positiveInt's "a whole number from 1 to 10000") already says it plainly.
      if (!/^(Too small|Too big)/.test(issue.message)) return issue.message;
      const bound = Number(issue.code === 'too_small' ? issue.minimum : issue.maximum);
      const what = issue.origin === 'array' || issue.origin === 'set' ? 'items' : issue.origin === 'string' ? 'characters' : '';
      const sign = issue.code === 'too_small' ? (issue.inclusive ? '≥' : '>') : issue.inclusive ? '≤' : '<';
      if (what === '') return `a number ${sign} ${bound}`;
      if (issue.code === 'too_small' && bound === 1 && issue.inclusive) {
        if (what === 'characters') return 'non-empty text';
        return where === 'envs' ? 'at least one environment name' : 'a non-empty list';
      }
      return issue.code === 'too_small' ? `at least ${issue.inclusive ? bound : bound + 1} ${what}` : `at most ${issue.inclusive ? bound : bound - 1} ${what}`;
    }
    case 'unrecognized_keys':
      return `none of ${issue.keys.join(', ')}`;
    default:
      return issue.message.replace(/^Invalid input: /, '');
  }
}

/** The config's first problem as one InputError located at the field (`deadlineMs`, `sampling.temperature`). */
function parseConfig(request: RunRequest): RunConfig {
  rejectUnknownKeys(request);
  const result = RunConfig.safeParse(request, { reportInput: true });
  if (result.success) {
    // Here, not in RunConfig: runs stored before the rule must still read.
    const uneven = unevenGroups(result.data);
    if (uneven) throw uneven;
    return result.data;
  }
  const issue = result.error.issues[0]!;
  const where = issue.path.map(String).join('.') || 'run';
  const got = 'input' in issue && issue.input !== undefined ? `got ${describeValue(issue.input)}` : issue.code === 'invalid_type' ? 'missing' : 'invalid';
  const more = result.error.issues.length > 1 ? ` (and ${result.error.issues.length - 1} more problem${result.error.issues.length > 2 ? 's' : ''})` : '';
  // zod's own wording ("Invalid input: expected number, received NaN", "Too small: …") restates the value; say only what is wanted.
  const expected = expectedOf(issue, where);
  throw new InputError(where, `${got}${more}`, expected);
}

/** Where environments are found: the built-in registry, or a test's own. */
export interface EnvironmentCatalog {
  names(): string[];
  get(name: string): EnvironmentDefinition;
}

export const builtinCatalog: EnvironmentCatalog = { names: environmentNames, get: getEnvironment };

export type TaskSelection = Pick<RunConfig, 'envs' | 'taskIds' | 'taskFiles'>;

/**
 * Every task the settings name, in order; duplicate ids and (unless `checkTasks` is false, for
 * `validate`, which reports them per task) broken tasks are input errors naming where they came from.
 */
export function selectTasks(config: TaskSelection, catalog: EnvironmentCatalog = builtinCatalog, options: { checkTasks?: boolean } = {}): Task[] {
  const sources: { task: Task; from: string; file?: { path: string; index: number } }[] = [];
  if (config.taskFiles && config.taskFiles.length > 0) {
    for (const file of config.taskFiles) loadTaskFile(file).forEach((task, i) => sources.push({ task, from: `${file} (task ${i + 1})`, file: { path: file, index: i } }));
  } else {
    for (const env of config.envs) for (const task of catalog.get(env).tasks()) sources.push({ task, from: `environment ${env}` });
  }
  const first = new Map<string, string>();
  const fileOf = new Map<string, { path: string; index: number }>();
  for (const { task, from, file } of sources) {
    const seen = first.get(task.id);
    if (seen) throw new InputError(`task ${task.id}`, `the id appears twice: in ${seen} and in ${from}`, 'unique task ids (a second task with the same id would silently replace the first)');
    first.set(task.id, from);
    if (file) fileOf.set(task.id, file);
  }
  let tasks = sources.map((s) => s.task);
  if (config.taskIds && config.taskIds.length > 0) {
    const byId = new Map<string, Task>(tasks.map((t) => [t.id, t]));
    const missing = config.taskIds.filter((id) => !byId.has(id));
    if (missing.length > 0) {
      throw new InputError('taskIds', `unknown task id${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`, `ids listed by \`gauntlet tasks --env ${config.envs.join(',')}\``);
    }
    const repeated = config.taskIds.filter((id, i) => config.taskIds!.indexOf(id) !== i);
    if (repeated.length > 0) throw new InputError('taskIds', `task id${repeated.length > 1 ? 's' : ''} ${[...new Set(repeated)].join(', ')} given more than once`, 'each task once (use epochs for repeats)');
    tasks = config.taskIds.map((id) => byId.get(id)!);
  }
  const known = catalog.names();
  for (const task of tasks) {
    if (!known.includes(task.env)) throw new InputError(`task ${task.id}`, `unknown environment "${task.env}" (from ${first.get(task.id)})`, `one of ${known.join(', ')}`);
    const problems = options.checkTasks === false ? [] : taskProblems(catalog.get(task.env), task);
    if (problems.length > 0) {
      // From a file, each problem is also given its line there, as the loader's own errors are.
      const file = fileOf.get(task.id);
      const located = problems.map((problem) => {
        const line = file ? taskProblemLine(file.path, file.index, problem) : undefined;
        return line === undefined ? problem : `${file!.path}:${line}: ${problem}`;
      });
      throw new InputError(`task ${task.id}`, `cannot run as written (from ${first.get(task.id)}):\n  ${located.join('\n  ')}`);
    }
  }
  if (tasks.length === 0) throw new InputError('taskIds', 'the settings select no task', 'at least one task');
  return tasks;
}

function commandExists(command: string, env: Record<string, string | undefined>): boolean {
  const candidates = command.includes('/') ? [command] : (env.PATH ?? '').split(delimiter).filter(Boolean).map((dir) => join(dir, command));
  return candidates.some((path) => {
    try {
      accessSync(isAbsolute(path) ? path : join(process.cwd(), path), constants.X_OK);
      return true;
    } catch (_error) {
      return false;
    }
  });
}

export interface ResolveOptions {
  /** Where executables (MCP servers) are looked up. */
  env?: Record<string, string | undefined>;
  catalog?: EnvironmentCatalog;
}

/**
 * Validates settings and resolves them into a complete, storable RunConfig plus the tasks' content.
 * Every problem is an InputError located at a config field (`deadlineMs`, `model`, `task ID`).
 */
export async function resolveRun(request: RunRequest, options: ResolveOptions = {}): Promise<ResolvedRun> {
  const env = options.env ?? process.env;
  const catalog = options.catalog ?? builtinCatalog;
  const config = parseConfig(request);
  const known = catalog.names();
  for (const name of config.envs) if (!known.includes(name)) throw new InputError('envs', `unknown environment "${name}"`, `one of ${known.join(', ')}`);
  try {
    parseModelSpec(config.model);
  } catch (error) {
    throw error instanceof InputError ? error.at('model') : error;
  }
  for (const field of ['judge', 'user'] as const) {
    const spec = config[field];
    if (spec === undefined) continue;
    try {
      parseModelSpec(spec);
    } catch (error) {
      throw error instanceof InputError ? error.at(field) : error;
    }
  }
  const ownReward = config.reward ? parseRewardConfig(config.reward, 'reward') : undefined;
  if (ownReward && config.rewards) throw new InputError('rewards', 'given beside `reward`, which covers the whole run', 'one reward for the whole run (`reward`) or one per environment (`rewards`)');
  if (needsTextCompletion(config.scaffold)) {
    const parsed = TextToolsOptions.safeParse(config.modelOptions, { reportInput: true });
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const got = 'input' in issue && issue.input !== undefined ? `got ${describeValue(issue.input)}` : 'missing';
      throw new InputError(`modelOptions.${issue.path.join('.')}`, got, issue.message);
    }
    if (parseModelSpec(config.model).kind !== 'openai') throw new InputError('model', `the text-tools scaffold talks to /v1/completions, got "${config.model}"`, 'openai:BASE_URL#MODEL');
    refuseEngineDefaultLimit(config.sampling);
  }
  if (config.gateway !== undefined && parseModelSpec(config.model).kind !== 'openai') {
    throw new InputError('gateway', `only OpenAI-style models can send their calls through the gateway, got "${config.model}"`, 'openai:BASE_URL#MODEL (the gateway\'s --upstream)');
  }
  if (config.agent !== undefined) checkAgentRun(config, catalog);
  const tasks = selectTasks(config, catalog);
  // Stored complete (defaults filled, rubrics inline, an environment's default named as such): the
  // run rebuilds its reward from this alone.
  const environments = [...new Set(tasks.map((t) => t.env))].map((name) => catalog.get(name));
  const perEnvironment = ownReward ? undefined : rewardsByEnvironment(environments, config.rewards);
  const reward = ownReward ?? (perEnvironment ? undefined : environmentRewardConfig(environments));
  const inUse: [string, RewardConfig][] = perEnvironment ? Object.entries(perEnvironment).map(([name, r]) => [`rewards.${name}`, r]) : reward ? [['reward', reward]] : [];
  for (const [where, each] of inUse) {
    if (!rewardNeeds(each).judge || config.judge) continue;
    const rubrics = each.terms.filter((t) => t.kind === 'rubric' && t.spec.judge === undefined).map((t) => t.name);
    const from = each.source ? ` (the ${each.source} default)` : '';
    throw new InputError(where, `the rubric term${rubrics.length > 1 ? 's' : ''} ${rubrics.join(', ')}${from} need${rubrics.length > 1 ? '' : 's'} a judge model to grade with`, 'a judge (--judge SPEC), or a `judge:` on the term');
  }
  const perturbations = resolveRunPerturbations(config);
  if (config.requestTimeoutMs !== undefined) {
    for (const task of tasks) {
      const deadline = config.deadlineMs ?? task.limits.deadlineMs;
      if (config.requestTimeoutMs >= deadline) {
        throw new InputError(
          'requestTimeoutMs',
          `${config.requestTimeoutMs} ms is not shorter than the ${deadline} ms deadline of ${task.id}: a hung endpoint would be scored as the model running out of time`,
          `a request timeout below every task's deadline (at most ${MAX_TIMER_MS} ms)`,
        );
      }
    }
  }
  if (config.modelOptions.baseUrl !== undefined) {
    if (typeof config.modelOptions.baseUrl !== 'string') throw new InputError('modelOptions.baseUrl', `got ${describeValue(config.modelOptions.baseUrl)}`, 'a URL');
    rejectCredentials(config.modelOptions.baseUrl, { where: 'modelOptions.baseUrl', envVar: 'the API key environment variable (OPENAI_API_KEY, ANTHROPIC_API_KEY or MINIMAX_API_KEY)' });
  }
  if (config.modelOptions.stream !== undefined && typeof config.modelOptions.stream !== 'boolean') {
    throw new InputError('modelOptions.stream', `got ${describeValue(config.modelOptions.stream)}`, 'true or false');
  }
  for (const server of config.mcpServers) {
    if (!commandExists(server.command, env)) throw new InputError(`mcpServers.${server.name}`, `command "${server.command}" not found or not executable`, 'a program on PATH or a path to an executable');
  }
  // `auto` becomes the backend this machine gives, and is stored: a resumed run uses the same one
  // (or fails clearly where it cannot), never silently another.
  const needProcess = [...new Set(tasks.map((t) => t.env))].map((name) => catalog.get(name)).filter((d) => d.requiresProcessSandbox).map((d) => d.name);
  const imageOnly = tasks.filter((task) => runsOnlyInImage(catalog.get(task.env), task)).map((task) => task.id);
  if (imageOnly.length > 0 && config.sandbox !== 'k8s') {
    const named = imageOnly.length > 3 ? `${imageOnly.slice(0, 3).join(', ')} and ${imageOnly.length - 3} more` : imageOnly.join(', ');
    throw new InputError('sandbox', `${named} run${imageOnly.length === 1 ? 's' : ''} only in a prebuilt image, and the ${config.sandbox} sandbox runs commands on this machine's system`, 'k8s (--sandbox k8s), whose pods start from the image');
  }
  const { rewards: _given, ...rest } = config;
  const resolved = {
    ...rest,
    perturbations,
    ...(reward ? { reward: rewardConfigJson(reward) } : {}),
    ...(perEnvironment ? { rewards: Object.fromEntries(Object.entries(perEnvironment).map(([name, r]) => [name, rewardConfigJson(r)])) } : {}),
  };
  if (config.sandbox === 'remote') {
    await checkRemoteSandbox(env, needProcess);
    return { config: resolved, tasks };
  }
  if (config.sandbox === 'k8s') {
    await checkK8sSandbox(env, tasks.some((task) => needsDefaultImage(catalog.get(task.env), task)));
    return { config: resolved, tasks };
  }
  const { bwrap } = await sandboxAvailability();
  if (config.sandbox === 'bwrap' && !bwrap.available) throw new InputError('sandbox', `bwrap was asked for but cannot run here: ${bwrap.reason ?? 'unknown reason'}`, 'auto or virtual, or install bubblewrap');
  const sandbox = config.sandbox === 'auto' ? (bwrap.available ? 'bwrap' : 'virtual') : config.sandbox;
  if (needProcess.length > 0 && sandbox !== 'bwrap') {
    throw new InputError('sandbox', `${needProcess.join(', ')} need${needProcess.length === 1 ? 's' : ''} a process sandbox (bwrap)${bwrap.available ? '' : `, which cannot run here: ${bwrap.reason ?? 'unknown reason'}`}`, 'sandbox auto or bwrap on a machine with bubblewrap');
  }
  return { config: { ...resolved, sandbox }, tasks };
}

/**
 * A remote sandbox server must answer now (not mid-run) and, for environments that need real
 * processes, run bwrap itself. Its URL and token stay in the environment, never in the run.
 */
async function checkRemoteSandbox(env: Record<string, string | undefined>, needProcess: readonly string[]): Promise<void> {
  let health;
  try {
    health = await probeRemoteSandbox(remoteServerFromEnv(env));
  } catch (error) {
    if (error instanceof InputError) throw error.at(`sandbox remote: ${error.where}`);
    throw new InputError('sandbox', `the remote sandbox server does not answer: ${errorMessage(error)}`, `a running \`gauntlet sandbox-server\` at ${REMOTE_URL_VARIABLE}`);
  }
  if (needProcess.length > 0 && health.backend !== 'bwrap') {
    throw new InputError('sandbox', `${needProcess.join(', ')} need a process sandbox, and the remote server runs ${health.backend}`, 'a sandbox-server on a machine with bubblewrap');
  }
}

/**
 * The cluster must answer now (not mid-run). The image, namespace and kubeconfig stay in the
 * environment, never in the run; what the image holds (node for coding, python3 for imported
 * tasks) is the user's to choose.
 */
async function checkK8sSandbox(env: Record<string, string | undefined>, defaultImage: boolean): Promise<void> {
  await checkK8sSandboxes(env, { defaultImage }).catch((error: unknown) => {
    throw error instanceof InputError ? error.at(`sandbox k8s: ${error.where}`) : error;
  });
}

/**
 * The run's perturbations, validated and stored with their defaults filled in (so a later version
 * with other defaults replays the same ones). Scaffold arms that need another model client (text
 * tool calls) cannot be switched per rollout by `run`: that is what `gauntlet robustness` is for.
 */
/** Tools an external agent's files travel through: it works on the task's files with its own tools. */
const AGENT_WORKSPACE_TOOLS = ['run_command', 'write_file'];

/** An external agent needs an OpenAI-style model (its gateway's upstream) and environments whose work is files. */
function checkAgentRun(config: RunConfig, catalog: EnvironmentCatalog): void {
  if (parseModelSpec(config.model).kind !== 'openai') {
    throw new InputError('agent', `external agents reach the model through a gateway in front of an OpenAI-style endpoint, got "${config.model}"`, 'openai:BASE_URL#MODEL');
  }
  if (config.gateway !== undefined) throw new InputError('gateway', 'a run with an external agent starts its own gateway in front of the model', 'no --gateway with --agent');
  for (const env of config.envs) {
    if (!catalog.names().includes(env)) continue;
    const tools = Object.keys(catalog.get(env).tools);
    const missing = AGENT_WORKSPACE_TOOLS.filter((t) => !tools.includes(t));
    if (missing.length > 0) throw new InputError('agent', `external agents work on files; environment "${env}" has no ${missing.join(' or ')} tool`, 'an environment such as coding or terminal');
  }
}

function resolveRunPerturbations(config: RunConfig): RunConfig['perturbations'] {
  if (config.perturbations.length === 0) return [];
  const resolved = resolvePerturbations(config.perturbations, 'perturbations');
  for (const entry of resolved.entries) {
    if (entry.perturbation.id === 'scaffold.tools') {
      throw new InputError('perturbations', 'scaffold.tools switches between native and text tool calls, which need different model clients; a run has one', '--scaffold text-tools --tool-format NAME for a whole run, or `gauntlet robustness` to compare them');
    }
  }
  return resolved.specs;
}

/** A stored task whose definition has changed (or vanished) since the run ran it. */
export interface TaskDrift {
  taskId: string;
  change: 'changed' | 'removed';
}

/**
 * Compares the tasks a run stored with their current definitions (built-in or from the same task
 * files). Reports only: stored runs always use their stored tasks.
 */
export function taskDrift(config: RunConfig, stored: readonly StoredTask[], catalog: EnvironmentCatalog = builtinCatalog): TaskDrift[] {
  const current = new Map<string, Task>();
  try {
    if (config.taskFiles && config.taskFiles.length > 0) for (const file of config.taskFiles) for (const t of loadTaskFile(file)) current.set(t.id, t);
    else for (const env of config.envs) if (catalog.names().includes(env)) for (const t of catalog.get(env).tasks()) current.set(t.id, t);
  } catch (error) {
    // A task file that is gone or now unreadable: every stored task counts as removed.
    if (!(error instanceof InputError)) throw error;
  }
  return stored.flatMap(({ task, hash }): TaskDrift[] => {
    const now = current.get(task.id);
    if (!now) return [{ taskId: task.id, change: 'removed' }];
    return taskHash(now) === hash ? [] : [{ taskId: task.id, change: 'changed' }];
  });
}

export interface RunTasks {
  tasks: Task[];
  /** `stored`: exactly what the run ran. `current`: a run written before tasks were stored; today's definitions stand in. */
  source: 'stored' | 'current';
  drift: TaskDrift[];
}

/**
 * The tasks of a stored run: the stored ones (with any drift of today's definitions reported).
 * Runs written before tasks were stored get today's definitions, and say so.
 */
export function tasksOfRun(store: Store, runId: string, config: RunConfig, catalog: EnvironmentCatalog = builtinCatalog): RunTasks {
  const stored = store.runTasks(runId);
  if (stored.length > 0) return { tasks: stored.map((s) => s.task), source: 'stored', drift: taskDrift(config, stored, catalog) };
  const current = new Map<string, Task>();
  if (config.taskFiles && config.taskFiles.length > 0) for (const file of config.taskFiles) for (const t of loadTaskFile(file)) current.set(t.id, t);
  else for (const env of config.envs) if (catalog.names().includes(env)) for (const t of catalog.get(env).tasks()) current.set(t.id, t);
  const ids = config.taskIds && config.taskIds.length > 0 ? config.taskIds : [...current.keys()];
  const missing = ids.filter((id) => !current.has(id));
  if (missing.length > 0) throw new InputError(`run ${runId}`, `it stored no tasks (written by an older Gauntlet) and ${missing.join(', ')} no longer exist${missing.length === 1 ? 's' : ''}`, 'the task definitions the run used');
  return { tasks: ids.map((id) => current.get(id)!), source: 'current', drift: [] };
}
