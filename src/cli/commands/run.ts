import { type SandboxBackend, SANDBOX_BACKENDS } from '../../sandbox/index.ts';
import type { Command } from 'commander';
import { scaffoldNames } from '../../agent/index.ts';
import { InputError, MAX_TIMER_MS, RunConfig, type AttemptsSpend, type Run, type Store } from '../../core/index.ts';
import { environmentNames, loadTaskFile } from '../../envs/index.ts';
import { MODEL_SPEC_FORMS, parseModelSpec } from '../../model/index.ts';
import { FORMAT_NAMES } from '../../formats/index.ts';
import { parsePerturbationText, splitPerturbFlag } from '../../perturb/index.ts';
import { loadRewardConfig, rewardConfigJson } from '../../reward/index.ts';
import { AUTO_THREADS_FROM, executeRun, MAX_THREADS, resolveRun, type RunNotes, type RunProgress, type RunRequest, type RunSummary } from '../../runner/index.ts';
import { executeQueuedRun, parseRateLimit, parseRedisUrl, type QueueSettings } from '../../runner/queue/index.ts';
import { AGENTS, agentSpec, defaultAgentCache, startAgentRun } from '../../training/agents/index.ts';
import { chatCaptureFields, type EngineKind } from '../../training/gateway/index.ts';
import { causeLine, printJson, type CliIo } from '../io.ts';
import { abortOnSignal } from '../signals.ts';
import { collect, collectNames, nonNegativeInt, number, isMapping, oneOf, positiveInt, readRunConfigFile } from '../options.ts';
import { DEFAULT_STORE_PATH, openCliStore, storeFlag } from '../store.ts';
import { environmentModulesFor, refuseUnknownEnvironments, withLoadHint } from '../env-modules.ts';
import { environmentsOfTaskFiles } from '../tasks.ts';
import { describeCoordinatorEvent, METRICS_FLAG_HELP, metricsEndpointOf, startMetrics, takeQueueKey, TRUST_REDIS_HELP, type MetricsFlags } from './worker.ts';

interface RunFlags extends MetricsFlags {
  env?: string[];
  task?: string[];
  tasksFile?: string[];
  model?: string;
  baseUrl?: string;
  epochs?: number;
  groupSize?: number;
  concurrency?: number;
  seed?: number;
  scaffold?: string;
  maxTurns?: number;
  deadline?: number;
  maxAttempts?: number;
  stopAfterInfraErrors?: number;
  sandbox?: SandboxBackend;
  temperature?: number;
  maxTokens?: number;
  requestTimeout?: number;
  maxOutputBytes?: number;
  contextBudget?: number;
  keepTurns?: number;
  policyVersion?: string;
  config?: string;
  template?: string;
  toolFormat?: string;
  tokenizer?: string;
  tokenIds?: boolean;
  captureTokens?: EngineKind;
  stream?: boolean;
  resume?: string;
  retryInfra?: boolean;
  judge?: string;
  userModel?: string;
  reward?: string;
  rewardFor?: string[];
  mcpServer?: string[];
  perturb?: string[];
  perturbSeed?: number;
  gateway?: string;
  agent?: string;
  queue?: string;
  trustRedis?: boolean;
  rateLimit?: string;
  threads?: number | 'auto';
  store: string;
  json?: boolean;
}

/** Which flag sets which config field: errors about a field a flag set are restated as that flag. */
const FLAG_OF_FIELD: Record<string, string> = {
  envs: '--env',
  taskIds: '--task',
  taskFiles: '--tasks-file',
  model: '--model',
  'modelOptions.baseUrl': '--base-url',
  'modelOptions.template': '--template',
  'modelOptions.toolFormat': '--tool-format',
  'modelOptions.tokenizer': '--tokenizer',
  'modelOptions.sendTokenIds': '--token-ids',
  'modelOptions.stream': '--no-stream',
  scaffold: '--scaffold',
  epochs: '--epochs',
  groupSize: '--group-size',
  concurrency: '--concurrency',
  seed: '--seed',
  maxAttempts: '--max-attempts',
  stopAfterInfraErrors: '--stop-after-infra-errors',
  maxTurns: '--max-turns',
  deadlineMs: '--deadline',
  requestTimeoutMs: '--request-timeout',
  maxOutputBytes: '--max-output-bytes',
  context: '--context-budget',
  'context.budgetTokens': '--context-budget',
  'context.keepRecentTurns': '--keep-turns',
  policyVersion: '--policy-version',
  'sampling.temperature': '--temperature',
  'sampling.maxTokens': '--max-tokens',
  'sampling.extra': '--capture-tokens',
  judge: '--judge',
  user: '--user-model',
  reward: '--reward',
  rewards: '--reward-for',
  mcpServers: '--mcp-server',
  sandbox: '--sandbox',
  perturbations: '--perturb',
  perturbationSeed: '--perturb-seed',
  gateway: '--gateway',
  agent: '--agent',
  'agent.version': '--agent',
};

/** Flags only the text-tools scaffold reads; elsewhere they would be ignored without a word. */
const TEXT_TOOLS_FLAGS = [
  ['template', '--template'],
  ['toolFormat', '--tool-format'],
  ['tokenizer', '--tokenizer'],
  ['tokenIds', '--token-ids'],
] as const;

/** `name=command arg …` → an MCP server spec (arguments split on spaces). */
function parseMcpServer(value: string): { name: string; command: string; args: string[] } {
  const match = /^([A-Za-z0-9_-]+)=(\S+)(.*)$/.exec(value.trim());
  if (!match) throw new InputError('--mcp-server', `got "${value}"`, 'NAME=COMMAND [ARGS…], e.g. docs=node server.js');
  return { name: match[1]!, command: match[2]!, args: match[3]!.trim().split(/\s+/).filter(Boolean) };
}

/** `--reward-for ENV=FILE` flags as a run's `rewards`, each file read where its path is known. */
function rewardsFromFlags(values: readonly string[], fromFile: unknown): Record<string, unknown> {
  const rewards: Record<string, unknown> = { ...(isMapping(fromFile) ? fromFile : {}) };
  for (const value of values) {
    const match = /^([a-z0-9][a-z0-9_-]*)=(.+)$/.exec(value);
    if (!match) throw new InputError('--reward-for', `got "${value}"`, 'ENV=FILE, e.g. mail=mail-reward.yaml');
    rewards[match[1]!] = rewardConfigJson(loadRewardConfig(match[2]!));
  }
  return rewards;
}

/** The settings the flags (over a config file) ask for, and which fields the flags set. Validation is the runner's. */
function requestFrom(flags: RunFlags): { request: RunRequest; fromFlags: Set<string> } {
  const fromFile = flags.config ? readRunConfigFile(flags.config) : {};
  const fromFlags = new Set<string>();
  const scaffold = flags.scaffold ?? fromFile.scaffold;
  const textOnly = TEXT_TOOLS_FLAGS.find(([field]) => flags[field] !== undefined);
  if (textOnly && scaffold !== 'text-tools') {
    throw new InputError(textOnly[1], `only applies with --scaffold text-tools${scaffold === undefined ? '' : ` (the scaffold is ${String(scaffold)})`}`, '--scaffold text-tools as well');
  }
  const set = <T>(field: string, value: T | undefined): Record<string, T> => {
    if (value === undefined) return {};
    fromFlags.add(field);
    return { [field]: value };
  };
  const modelOptions: Record<string, unknown> = { ...(fromFile.modelOptions as Record<string, unknown> | undefined) };
  for (const [field, value] of [
    ['baseUrl', flags.baseUrl],
    ['template', flags.template],
    ['toolFormat', flags.toolFormat],
    ['tokenizer', flags.tokenizer],
    ['sendTokenIds', flags.tokenIds],
    ['stream', flags.stream === false ? false : undefined],
  ] as const) {
    if (value === undefined) continue;
    modelOptions[field] = value;
    fromFlags.add(`modelOptions.${field}`);
  }
  const sampling: Record<string, unknown> = { ...(fromFile.sampling as Record<string, unknown> | undefined) };
  if (flags.temperature !== undefined) {
    sampling.temperature = flags.temperature;
    fromFlags.add('sampling.temperature');
  }
  if (flags.maxTokens !== undefined) {
    sampling.maxTokens = flags.maxTokens;
    fromFlags.add('sampling.maxTokens');
  }
  if (flags.captureTokens !== undefined) {
    // The engine's own request fields: without them vLLM and SGLang report no token ids, and training exports have nothing exact to hand over.
    const extra = sampling.extra;
    sampling.extra = { ...(extra !== null && typeof extra === 'object' && !Array.isArray(extra) ? extra : {}), ...chatCaptureFields(flags.captureTokens) };
    fromFlags.add('sampling.extra');
  }
  let context = fromFile.context;
  if (flags.contextBudget !== undefined) {
    context = { budgetTokens: flags.contextBudget, keepRecentTurns: flags.keepTurns ?? 4 };
    fromFlags.add('context');
  } else if (flags.keepTurns !== undefined) throw new InputError('--keep-turns', 'only applies with --context-budget', '--context-budget TOKENS as well');
  if (flags.perturbSeed !== undefined && flags.perturb === undefined && fromFile.perturbations === undefined) {
    throw new InputError('--perturb-seed', 'only applies with --perturb (there is nothing to perturb)', '--perturb IDS as well');
  }
  if (flags.reward !== undefined && flags.rewardFor !== undefined) throw new InputError('--reward-for', 'given with --reward, which covers the whole run', 'one reward for the run (--reward) or one per environment (--reward-for)');
  const request: Record<string, unknown> = {
    epochs: 1,
    concurrency: 4,
    seed: 0,
    ...fromFile,
    ...set('envs', flags.env),
    ...set('taskIds', flags.task),
    ...set('taskFiles', flags.tasksFile),
    ...set('model', flags.model),
    modelOptions,
    ...set('epochs', flags.epochs),
    ...set('groupSize', flags.groupSize),
    ...set('concurrency', flags.concurrency),
    ...set('seed', flags.seed),
    ...set('scaffold', flags.scaffold),
    ...set('maxTurns', flags.maxTurns),
    ...set('deadlineMs', flags.deadline === undefined ? undefined : Math.round(flags.deadline * 1000)),
    ...set('requestTimeoutMs', flags.requestTimeout === undefined ? undefined : Math.round(flags.requestTimeout * 1000)),
    ...set('maxOutputBytes', flags.maxOutputBytes),
    ...set('maxAttempts', flags.maxAttempts),
    ...set('stopAfterInfraErrors', flags.stopAfterInfraErrors),
    ...set('policyVersion', flags.policyVersion),
    ...set('sandbox', flags.sandbox),
    ...set('judge', flags.judge),
    ...set('user', flags.userModel),
    // Read here, where the file's path is known (errors name it; rubric paths resolve beside it); the runner validates again.
    ...set('reward', flags.reward === undefined ? undefined : rewardConfigJson(loadRewardConfig(flags.reward))),
    ...set('rewards', flags.rewardFor === undefined ? undefined : rewardsFromFlags(flags.rewardFor, fromFile.rewards)),
    ...set('mcpServers', flags.mcpServer?.map(parseMcpServer)),
    ...set('perturbations', flags.perturb?.flatMap(splitPerturbFlag).map((text) => parsePerturbationText(text))),
    ...set('perturbationSeed', flags.perturbSeed),
    ...set('gateway', flags.gateway),
    ...set('agent', flags.agent === undefined ? undefined : { name: flags.agent, version: agentSpec(flags.agent).version }),
    ...(context !== undefined ? { context } : {}),
    sampling,
  };
  // --reward covers the whole run, over a file's rewards per environment as over its reward.
  if (flags.reward !== undefined) delete request.rewards;
  const givenEnvs = nameList(request.envs);
  const taskFiles = nameList(request.taskFiles);
  if (givenEnvs && taskFiles && taskFiles.length > 0) refuseOtherEnvironments(givenEnvs, taskFiles, nameList(request.taskIds), flags.env ? '--env' : `${flags.config}: envs`);
  if (request.envs === undefined && flags.tasksFile) request.envs = environmentsOfTaskFiles(flags.tasksFile);
  if (request.envs === undefined) throw new InputError('--env', 'no environment given', `--env NAME (one of ${environmentNames().join(', ')})`);
  if (request.model === undefined) throw new InputError('--model', 'no model given', 'oracle, random, scripted:PATH, openai:BASE_URL#MODEL, anthropic:BASE_URL#MODEL or minimax:MODEL');
  if (flags.baseUrl !== undefined && typeof request.model === 'string') refuseOfflineBaseUrl(request.model, flags.model !== undefined);
  if (flags.captureTokens !== undefined && typeof request.model === 'string') refuseCaptureWithout(request.model);
  return { request: request as RunRequest, fromFlags };
}

/** A config value that is a list of names, else undefined (the runner reports what it is). */
const nameList = (value: unknown): string[] | undefined => (Array.isArray(value) && value.every((v) => typeof v === 'string') ? value : undefined);

/**
 * A run records its environments and runs the task files' tasks: with both given, a task of another
 * environment (or an environment with no task in the files) would be recorded wrongly, so it is refused.
 */
function refuseOtherEnvironments(envs: readonly string[], files: readonly string[], taskIds: readonly string[] | undefined, where: string): void {
  const tasks = files.flatMap((file) => loadTaskFile(file).map((task) => ({ task, file })));
  const theirs = [...new Set(tasks.map(({ task }) => task.env))].join(', ');
  const expected = `the environments of the file's tasks (${theirs}), or no --env: a run takes them from the file`;
  const running = taskIds ? tasks.filter(({ task }) => taskIds.includes(task.id)) : tasks;
  const other = running.find(({ task }) => !envs.includes(task.env));
  if (other) throw new InputError(where, `got ${envs.join(', ')}, but ${other.file} holds task ${other.task.id} of environment ${other.task.env}`, expected);
  const empty = envs.find((env) => !tasks.some(({ task }) => task.env === env));
  if (empty) throw new InputError(where, `got ${empty}, but no task in ${files.join(', ')} belongs to it`, expected);
}

/** The kind of model a spec names; null when it does not parse (the runner reports that, naming the flag or file). */
function modelKindOf(model: string): string | null {
  try {
    return parseModelSpec(model).kind;
  } catch {
    return null;
  }
}

/** Token ids come from a vLLM or SGLang server behind an OpenAI-compatible endpoint; any other model would ignore the fields. */
function refuseCaptureWithout(model: string): void {
  const kind = modelKindOf(model);
  if (kind !== null && kind !== 'openai') throw new InputError('--capture-tokens', `only applies to an engine behind an OpenAI-compatible endpoint, and the model is ${kind}`, 'openai:BASE_URL/v1#MODEL as the model (vLLM or SGLang), or no --capture-tokens');
}

/** Models that run in this process have no endpoint: `--base-url` would be ignored. */
function refuseOfflineBaseUrl(model: string, fromFlag: boolean): void {
  const kind = modelKindOf(model);
  if (kind === null || kind === 'openai' || kind === 'anthropic' || kind === 'minimax') return;
  throw new InputError('--base-url', `only applies to a model behind an HTTP endpoint, and ${fromFlag ? '--model ' : 'the model '}${model} runs in this process`, 'openai:…, anthropic:… or minimax:… as the model, or no --base-url');
}

/**
 * A runner error about a config field, restated in the user's terms: the flag that set the field,
 * or the config file it came from. Errors about other things (a task file, a task) stay as they are.
 */
export function restate(error: unknown, fromFlags: ReadonlySet<string>, configFile: string | undefined): unknown {
  if (!(error instanceof InputError)) return error;
  const where = error.where;
  const field = [...fromFlags].filter((f) => where === f || where.startsWith(`${f}.`)).sort((a, b) => b.length - a.length)[0];
  if (field) return error.at(FLAG_OF_FIELD[where] ?? FLAG_OF_FIELD[field] ?? where);
  const topField = where.split('.')[0]!;
  // Flags only set known fields, so a setting the runner does not know came from the file.
  if (configFile && (topField in RunConfig.shape || /^not a run setting/.test(error.problem))) return error.at(`${configFile}: ${where}`);
  if (FLAG_OF_FIELD[where]) return error.at(FLAG_OF_FIELD[where]);
  return error;
}

/** "1.2K", "3.4M": a count that fits the progress line. */
const COMPACT = new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 1 });

/** How often a run whose stderr is not a terminal (a CI log, a file) says where it stands. */
const PROGRESS_LINE_EVERY_MS = 30_000;

/** "progress: 120/1,000 rollouts, 80 passed, 3 infra errors, 0 errors, 1.2M tokens": one line for a log. */
export function progressLine(p: RunProgress): string {
  const count = (n: number) => n.toLocaleString('en-US');
  return `progress: ${count(p.done)}/${count(p.total)} rollouts, ${count(p.passed)} passed, ${count(p.infraErrors)} infra error${p.infraErrors === 1 ? '' : 's'}, ${count(p.errors)} error${p.errors === 1 ? '' : 's'}, ${COMPACT.format(p.tokens)} tokens`;
}

/**
 * A bar on a terminal; elsewhere a line every `everyMs` while the run goes on, so a log shows a
 * long run alive (and a run stuck retrying a dead endpoint as stuck) instead of nothing until its end.
 */
export async function progressReporter(io: CliIo, everyMs = PROGRESS_LINE_EVERY_MS): Promise<{ update: (p: RunProgress) => void; stop: () => void }> {
  if (!io.interactive) {
    let latest: RunProgress | undefined;
    const timer = setInterval(() => latest && latest.done < latest.total && io.stderr(`${progressLine(latest)}\n`), everyMs);
    timer.unref();
    return { update: (p) => (latest = { ...p }), stop: () => clearInterval(timer) };
  }
  // Loaded here: a run that shows no bar (--json, a pipe) never needs it.
  const { default: cliProgress } = await import('cli-progress');
  const bar = new cliProgress.SingleBar(
    { format: 'rollouts {bar} {value}/{total} | passed {passed} | infra errors {infra} | errors {errors} | tokens {tokens} | ETA {eta_formatted}', stream: process.stderr, hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update: (p) => {
      const payload = { passed: p.passed, infra: p.infraErrors, errors: p.errors, tokens: COMPACT.format(p.tokens) };
      if (!started) {
        bar.start(p.total, p.done, payload);
        started = true;
      } else bar.update(p.done, payload);
    },
    stop: () => started && bar.stop(),
  };
}

/** A run's first infra error, to say why it scored nothing. */
export interface InfraErrorNote {
  rolloutId: string;
  taskId: string;
  epoch: number;
  source: string;
  message: string;
}

/** A run that scored nothing only because its infrastructure failed (a model endpoint, a sandbox): no result, not 0%. */
export const onlyInfraErrors = (summary: RunSummary): boolean => summary.scored === 0 && summary.infraErrors > 0;

/** The first infra error of a run that scored nothing; null when something was scored. */
export function firstInfraError(store: Store, summary: RunSummary): InfraErrorNote | null {
  if (!onlyInfraErrors(summary)) return null;
  const rollout = store.rolloutOutcomes(summary.runId).find((r) => r.status === 'infra_error');
  if (!rollout) return null;
  return { rolloutId: rollout.id, taskId: rollout.taskId, epoch: rollout.epoch, source: rollout.error?.source ?? 'unknown', message: rollout.error?.message ?? '' };
}

/** A summary as JSON: with nothing scored there is no pass rate or mean score (null, never 0), as infra errors are no score. */
export function summaryJson(summary: RunSummary) {
  if (summary.scored > 0) return summary;
  return { ...summary, passRate: null, pooledPassRate: null, taskMeanPassRate: null, meanScore: null };
}

/** Why nothing was scored, in one line: the count of infra errors and the first one's message. */
export function unscoredText(summary: RunSummary, infra: InfraErrorNote | null): string {
  if (!onlyInfraErrors(summary)) return 'no rollout was scored';
  const first = infra ? ` (first: ${infra.taskId} #${infra.epoch}, ${infra.source}: ${causeLine(infra.message)})` : '';
  return `infra errors only, ${summary.infraErrors} rollout${summary.infraErrors === 1 ? '' : 's'} could not be scored${first}`;
}

/** What the run's rollouts spent, retried attempts included: what an endpoint was asked for and billed. */
export function spentText(spent: AttemptsSpend, rollouts: number): string {
  const retried = spent.attempts - rollouts;
  const n = (value: number, what: string) => `${value.toLocaleString('en-US')} ${what}${value === 1 ? '' : 's'}`;
  return `spent: ${n(spent.modelCalls, 'model call')}, ${n(spent.toolCalls, 'tool call')}, ${spent.promptTokens.toLocaleString('en-US')} prompt + ${n(spent.completionTokens, 'completion token')}${retried > 0 ? ` (with ${n(retried, 'retried attempt')})` : ''}`;
}

const showHint = (summary: RunSummary, storePath: string): string => `\`gauntlet show ${summary.runId}${storeFlag(storePath)}\` lists them`;

/** The command that finishes a run: what a message tells people to type. */
export const resumeCommand = (runId: string, storePath: string): string => `gauntlet run --resume ${runId}${storeFlag(storePath)}`;

export function describeSummary(summary: RunSummary, storePath: string, infra: InfraErrorNote | null = null): string {
  const reasons = Object.entries(summary.terminationReasons)
    .filter(([, n]) => n > 0)
    .map(([r, n]) => `${r} ${n}`)
    .join(', ');
  const taskMean = Math.abs(summary.taskMeanPassRate - summary.pooledPassRate) > 1e-9 ? `; per-task mean ${(summary.taskMeanPassRate * 100).toFixed(1)}%` : '';
  const lines = [
    `run ${summary.runId} ${summary.status}: ${summary.rollouts} rollouts, ${summary.scored} scored, ${summary.infraErrors} infra errors${summary.infraErrors > 0 && summary.status === 'finished' ? ` (run them again with \`${resumeCommand(summary.runId, storePath)} --retry-infra\`)` : ''}, ${summary.errors} errors${summary.missing ? `, ${summary.missing} missing (resume with \`${resumeCommand(summary.runId, storePath)}\`)` : ''}`,
    summary.scored > 0
      ? `pass rate ${(summary.pooledPassRate * 100).toFixed(1)}% (${summary.passed}/${summary.scored} scored rollouts${taskMean}), mean score ${summary.meanScore.toFixed(3)}`
      : `no pass rate: ${unscoredText(summary, infra)}${onlyInfraErrors(summary) ? `; ${showHint(summary, storePath)}` : ''}`,
    `stopped by: ${reasons || '(none)'}`,
  ];
  if (summary.spent && summary.spent.modelCalls > 0) lines.push(spentText(summary.spent, summary.rollouts));
  if (summary.errorRollouts.length > 0) {
    lines.push(`ERRORS (defects in ${[...new Set(summary.errorRollouts.map((e) => e.source))].join(' or ')} code; not scored, not retried):`);
    for (const e of summary.errorRollouts) lines.push(`  ${e.taskId} #${e.epoch} (${e.id}): ${causeLine(e.message)}`);
  }
  if (summary.failure) lines.push(`STOPPED: ${summary.failure}`);
  lines.push(`stored in ${storePath}; inspect with \`gauntlet show ${summary.runId}${storeFlag(storePath)}\``);
  return lines.join('\n');
}

/** Exit code for a finished run: defects and early stops fail it; an interrupt is 130. */
export function runExitCode(summary: RunSummary): number {
  if (summary.failure) return 1;
  if (summary.status === 'interrupted') return 130;
  return summary.errors > 0 ? 1 : 0;
}

const RUN_EXIT_CODES = `
Exit status:
  0    every rollout stored (infra errors on some are listed, never scored)
  1    a defect (error rollouts), an early stop, or no rollout scored because every one hit an infra error
  2    bad input (the message names the flag, file or field)
  130  interrupted (resume with --resume RUN_ID)`;

/** A run that would otherwise succeed, but has no result because infrastructure failed every rollout: `run` fails it (1). */
const failedByInfra = (summary: RunSummary): boolean => runExitCode(summary) === 0 && onlyInfraErrors(summary);

/** `--threads`: 'auto' or a count of rollout threads (0: every rollout on the main thread). */
function threadsOption(value: string): number | 'auto' {
  if (value === 'auto') return value;
  return nonNegativeInt('--threads', { max: MAX_THREADS })(value);
}

export function registerRunCommand(program: Command, io: CliIo): void {
  program
    .command('run')
    .description('Run rollouts of an environment\'s tasks with a model and score them')
    .option('--env <name>', 'environment(s), repeatable or comma-separated', collectNames('--env'))
    .option('--task <id>', 'only these task ids, repeatable or comma-separated', collect)
    .option('--tasks-file <file>', 'run the tasks in this YAML/JSON file instead of the built-in ones (repeatable)', collect)
    .option('--model <spec>', MODEL_SPEC_FORMS)
    .option('--base-url <url>', 'override the model endpoint (minimax)')
    .option('--epochs <n>', 'rollouts per task (at most 10000)', positiveInt('--epochs', { max: 10_000 }))
    .option('--group-size <n>', 'epochs that share one world (seed) and form one group, for group-relative advantages', positiveInt('--group-size', { max: 10_000 }))
    .option('--concurrency <n>', 'rollouts in flight at once', positiveInt('--concurrency', { max: 10_000 }))
    .option('--seed <n>', 'seed for worlds and random policies', nonNegativeInt('--seed', { max: 2 ** 32 - 1 }))
    .option('--scaffold <name>', `agent scaffold (${scaffoldNames().join(', ')})`, oneOf('--scaffold', scaffoldNames()))
    .option('--max-turns <n>', 'override every task\'s turn limit', positiveInt('--max-turns', { max: 100_000 }))
    .option('--deadline <seconds>', 'override every task\'s wall-clock deadline', number('--deadline', { min: 0.001, max: MAX_TIMER_MS / 1000 }))
    .option('--max-attempts <n>', 'attempts per rollout when infrastructure fails', positiveInt('--max-attempts', { max: 100 }))
    .option('--stop-after-infra-errors <n>', 'stop starting rollouts once this many in a row ended as infra errors (a model endpoint or service down); 0 never stops (default 100)', nonNegativeInt('--stop-after-infra-errors', { max: 1_000_000 }))
    .option('--sandbox <backend>', 'command sandbox: auto, virtual, bwrap, remote (GAUNTLET_SANDBOX_URL) or k8s (GAUNTLET_K8S_IMAGE)', oneOf('--sandbox', SANDBOX_BACKENDS))
    .option('--temperature <t>', 'sampling temperature', number('--temperature', { min: 0, max: 2 }))
    .option('--max-tokens <n>', 'completion token limit per call', positiveInt('--max-tokens', { max: 100_000_000 }))
    .option('--request-timeout <seconds>', 'per model request (default: half the deadline, at most 120); a request past it is an infra error', number('--request-timeout', { min: 0.001, max: MAX_TIMER_MS / 1000 }))
    .option('--max-output-bytes <n>', 'largest model output stored per call (default 4000000); larger is invalid_output', positiveInt('--max-output-bytes', { max: 1_000_000_000 }))
    .option('--context-budget <tokens>', 'summarise older turns when the context exceeds this (off by default)', positiveInt('--context-budget', { max: 100_000_000 }))
    .option('--keep-turns <n>', 'recent turns kept verbatim when summarising (default 4)', positiveInt('--keep-turns', { max: 10_000 }))
    .option('--policy-version <v>', 'the checkpoint version the model serves, recorded on every call')
    .option('--template <path>', 'text-tools: the model\'s chat template (chat_template.jinja, tokenizer_config.json or a model dir)')
    .option('--tool-format <name>', `text-tools: tool-call format (${FORMAT_NAMES.join(', ')})`)
    .option('--tokenizer <path>', 'text-tools: tokenizer.json, for sending token ids')
    .option('--token-ids', 'text-tools: send the prompt as token ids (vLLM/SGLang)')
    .option('--capture-tokens <engine>', 'ask the engine (vllm or sglang) for prompt and completion token ids and logprobs on every call, as `export --for` needs', oneOf('--capture-tokens', ['vllm', 'sglang'] as const))
    .option('--no-stream', 'ask the model endpoint for whole responses instead of SSE streams (SGLang returns chat token ids only then)')
    .option('--judge <spec>', 'judge model for LLM-judge checks (same spec forms as --model)')
    .option('--user-model <spec>', 'an LLM plays the simulated user of tasks that have one (default: their scripted user)')
    .option('--reward <file>', 'reward config (YAML/JSON): named, weighted terms stored on each rollout (default: the verifier\'s verdict, or the reward each environment declares)')
    .option('--reward-for <env=file>', 'a reward config for one environment\'s rollouts, e.g. mail=mail-reward.yaml (repeatable; other environments keep their own default)', (v: string, prev: string[] = []) => [...prev, v])
    .option('--mcp-server <name=command>', 'add an MCP server\'s tools to every episode, e.g. "docs=node docs-server.js" (repeatable)', (v: string, prev: string[] = []) => [...prev, v])
    .option('--perturb <ids>', 'perturbations applied to every rollout, e.g. tools.rename,prompts.system:verbose (repeatable; `gauntlet perturbations` lists them)', (v: string, prev: string[] = []) => [...prev, v])
    .option('--perturb-seed <n>', 'seed perturbations draw from (default: --seed)', nonNegativeInt('--perturb-seed', { max: 2 ** 32 - 1 }))
    .option('--gateway <url>', 'send every model call through a running `gauntlet gateway` (its --upstream the model\'s endpoint), which returns the engine\'s token ids and logprobs')
    .option('--agent <name>', `an external agent program plays each episode in its own sandbox, through a gateway in front of --model (${Object.keys(AGENTS).join(', ')}; installed on first use)`)
    .option('--queue <url>', 'enqueue rollouts on Redis (redis://HOST:PORT[/DB]) for `gauntlet worker` processes; this process stores their results')
    .option('--trust-redis', `with --queue: ${TRUST_REDIS_HELP}`)
    .option('--rate-limit <n/window>', 'with --queue: rollouts started per window on this model endpoint across all workers, e.g. 60/min (off removes it)')
    .option('--threads <n|auto>', `rollout threads in this process: auto (the default) uses cores − 1 (at most 4) from ${AUTO_THREADS_FROM} rollouts in flight on 4 or more cores, else none; 0 runs every rollout on the main thread`, threadsOption)
    .option('--config <file>', 'YAML/JSON run settings (flags override)')
    .option('--resume <runId>', 'finish an interrupted run with its stored settings and tasks: only missing rollouts run')
    .option('--retry-infra', 'with --resume: also run again the rollouts stored as infra errors (a new attempt replaces each)')
    .option('--store <path>', 'SQLite store', DEFAULT_STORE_PATH)
    .option('--json', 'print one JSON summary on stdout')
    .option('--metrics-port <port>', METRICS_FLAG_HELP.port, nonNegativeInt('--metrics-port', { max: 65_535 }))
    .option('--metrics-host <address>', METRICS_FLAG_HELP.host)
    .option('--metrics-token <secret>', METRICS_FLAG_HELP.token)
    .addHelpText('after', RUN_EXIT_CODES)
    .action(async (flags: RunFlags) => {
      const metricsAt = metricsEndpointOf(flags, io.env);
      if (flags.rateLimit !== undefined && flags.queue === undefined) throw new InputError('--rate-limit', 'only applies with --queue', '--queue redis://HOST:PORT as well');
      if (flags.trustRedis && flags.queue === undefined) throw new InputError('--trust-redis', 'only applies with --queue', '--queue redis://HOST:PORT as well');
      if (flags.queue !== undefined && flags.queue.trim() === '') throw new InputError('--queue', 'is empty', 'redis://HOST:PORT[/DB], or no --queue to run here');
      if (flags.threads !== undefined && flags.queue !== undefined) throw new InputError('--threads', 'rollouts of a queued run run on `gauntlet worker` processes, not here', 'no --threads with --queue (workers take --concurrency)');
      if (flags.concurrency !== undefined && flags.queue !== undefined) throw new InputError('--concurrency', 'rollouts of a queued run run on `gauntlet worker` processes, each with its own --concurrency', 'no --concurrency with --queue (give it to `gauntlet worker`)');
      // Jobs signed and results checked with it (GAUNTLET_QUEUE_KEY); a run in process needs none.
      const queueKey = flags.queue ? takeQueueKey(io.env) : undefined;
      const queue: QueueSettings | undefined = flags.queue
        ? { redis: parseRedisUrl(flags.queue), ...(flags.rateLimit !== undefined ? { rateLimit: parseRateLimit(flags.rateLimit) } : {}), ...(queueKey ? { key: queueKey } : {}), ...(flags.trustRedis ? { trustRedis: true } : {}) }
        : undefined;
      // An empty id (an unset shell variable) is a resume gone wrong, not a request for a new run.
      if (flags.resume !== undefined && flags.resume.trim() === '') throw new InputError('--resume', 'is empty', 'a run id shown by `gauntlet runs`');
      if (flags.retryInfra && flags.resume === undefined) throw new InputError('--retry-infra', 'only applies to a resumed run', '--resume RUN_ID as well');
      const planned = flags.resume ? undefined : requestFrom(flags);
      let resolved;
      if (planned) {
        try {
          resolved = await resolveRun(planned.request, { env: io.env });
        } catch (error) {
          throw restate(withLoadHint(error), planned.fromFlags, flags.config);
        }
      }
      const store = openCliStore(flags.store, io);
      if (flags.resume) {
        const known = store.getRun(flags.resume);
        if (!known) {
          store.close();
          throw new InputError('--resume', `no run "${flags.resume}" in ${store.path}`, 'a run id shown by `gauntlet runs`');
        }
        // A resumed run is its record: flags that would change behaviour are refused, not silently ignored.
        const changing = Object.keys(flags).filter((k) => !['resume', 'retryInfra', 'store', 'json', 'stream', 'queue', 'rateLimit', 'threads', 'envModule', 'metricsPort', 'metricsHost', 'metricsToken'].includes(k) || (k === 'stream' && flags.stream === false));
        if (changing.length > 0) {
          store.close();
          throw new InputError('--resume', `a resumed run uses its stored settings; got ${changing.map((k) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`).join(', ')}`, 'only --store, --json, --threads, --queue, --retry-infra, --env-module and the --metrics-* flags with --resume');
        }
        try {
          refuseUnknownEnvironments(known, '--resume', `run ${known.id}`);
        } catch (error) {
          store.close();
          throw error;
        }
      }
      const runEnvs = resolved?.config.envs ?? store.getRun(flags.resume ?? '')?.config.envs ?? [];
      // Rollout threads load the modules the run's environments came from, as this thread did.
      const environmentModules = environmentModulesFor(runEnvs);
      let served;
      try {
        served = metricsAt ? await startMetrics('run', metricsAt, io) : undefined;
      } catch (error) {
        store.close();
        throw error;
      }
      const metrics = served?.metrics;
      // Known once the run is created (or at once for a resume), so the interrupt can say how to go on.
      let runId = flags.resume;
      const interrupt = abortOnSignal(() =>
        io.stderr(`\ninterrupted: finishing in-flight work (a second Ctrl-C stops at once); resume with \`${resumeCommand(runId ?? 'RUN_ID', store.path)}\`\n`),
      );
      const progress = await progressReporter(io);
      try {
        const common = {
          store,
          run: resolved ? { resolved } : { resume: flags.resume!, ...(flags.retryInfra ? { retryInfraErrors: true } : {}) },
          signal: interrupt.signal,
          onProgress: metrics
            ? (p: RunProgress) => {
                progress.update(p);
                metrics.onProgress(p);
              }
            : progress.update,
          ...(metrics ? { onRollout: metrics.onRollout } : {}),
          onStart: (run: Run, notes: RunNotes) => {
            runId = run.id;
            if (io.interactive) io.stderr(`run ${run.id}: ${run.config.envs.join(', ')} with ${run.config.model}\n`);
            if (notes.taskSource === 'current') io.stderr(`note: run ${run.id} stored no tasks (an older Gauntlet wrote it); today's task definitions are used\n`);
            for (const d of notes.drift) io.stderr(`note: task ${d.taskId} has ${d.change === 'changed' ? 'changed' : 'been removed'} since the run started; the stored version is used\n`);
          },
        };
        // An external agent's run (new or resumed) gets its agent installed and a gateway of its own,
        // here or, for a queued run, on each worker.
        const config = resolved?.config ?? store.getRun(flags.resume ?? '')?.config;
        const agentRun = config?.agent && !queue
          ? await startAgentRun({ agent: config.agent, model: config.model, cacheDir: defaultAgentCache(io.env), ...(io.env.OPENAI_API_KEY ? { apiKey: io.env.OPENAI_API_KEY } : {}), log: (line) => io.stderr(`${line}\n`) })
          : undefined;
        const summary = await (queue
          ? executeQueuedRun({ ...common, queue, onQueue: (event) => io.stderr(`${describeCoordinatorEvent(event)}\n`) })
          : executeRun({ ...common, modelEnvironment: { env: io.env }, ...(agentRun ? { driver: agentRun.driver } : {}), ...(flags.threads !== undefined ? { threads: flags.threads } : {}), ...(environmentModules.length > 0 ? { environmentModules } : {}) })
        ).finally(() => agentRun?.close());
        progress.stop();
        const infra = firstInfraError(store, summary);
        if (flags.json) printJson(io, { ...summaryJson(summary), ...(infra ? { firstInfraError: infra } : {}), store: store.path });
        else io.stdout(`${describeSummary(summary, store.path, infra)}\n`);
        if (summary.failure) io.stderr(`gauntlet: ${summary.failure}\n`);
        if (failedByInfra(summary)) io.stderr(`gauntlet: run ${summary.runId} has no result: ${unscoredText(summary, infra)}; ${showHint(summary, store.path)}\n`);
        process.exitCode = failedByInfra(summary) ? 1 : runExitCode(summary);
      } finally {
        progress.stop();
        interrupt.dispose();
        await served?.endpoint.close();
        store.close();
      }
    });
}
