// Applying resolved perturbations to one episode: pure and deterministic. Each perturbation gets
// its own seed from (suite seed, task id, perturbation id), recorded with it, so a rollout's
// records rebuild the same perturbed task byte for byte.
import {
  createRng,
  hashString,
  type Environment,
  type JsonObject,
  type PerturbationRecord,
  type Task,
  type ToolSpec,
} from '../core/index.ts';
import { toolParametersSchema, type EnvironmentDefinition } from '../envs/index.ts';
import { findPerturbation } from './catalog.ts';
import { propertiesOf } from './json-schema.ts';
import { resolvePerturbations, type ResolvedPerturbations } from './spec.ts';
import { nestedPropertyNames } from './tools/deep-names.ts';
import type { ConversationPlan, EpisodeSettings, Perturbation, PerturbationTarget, ToolLayer } from './types.ts';
import { wrapEnvironment } from './wrap.ts';

/** The seed one perturbation uses for one task of a suite or run. */
export function perturbationSeed(suiteSeed: number, taskId: string, perturbationId: string): number {
  return hashString(`perturb:${suiteSeed}:${taskId}:${perturbationId}`);
}

export interface SkippedPerturbation {
  id: string;
  reason: string;
}

/** One episode, perturbed: what the runner hands the agent, how it wraps the environment, what it records. */
export interface PerturbedEpisode {
  /** The task for reset, the agent and the oracle (instruction, prompts, initial state, golden solution). */
  task: Task;
  /** The tools the agent will be offered (before any an MCP server adds). */
  tools: ToolSpec[];
  /** The seed the environment's reset gets for a rollout seed: another world under environment.reseed, else the same. */
  worldSeed(seed: number): number;
  /**
   * Wraps the episode's environment (before or after its reset; one wrapper per episode): the
   * agent's tools, calls, results and user turns go through it. Returns the environment itself
   * when nothing needs wrapping.
   */
  wrapEnvironment(environment: Environment): Environment;
  settings: EpisodeSettings;
  /** What was applied, with seeds: store on the rollout. */
  records: PerturbationRecord[];
  /** Perturbations that do not apply to this task, with why; nothing of them is applied or recorded. */
  skipped: SkippedPerturbation[];
}

/** Every tool name and parameter name, at any depth, that `tools` show. */
function namesIn(tools: readonly ToolSpec[]): Set<string> {
  const names = new Set<string>();
  for (const tool of tools) {
    names.add(tool.name);
    for (const [name] of propertiesOf(tool.parameters)) names.add(name);
    nestedPropertyNames(tool.parameters, names);
  }
  return names;
}

interface SeededEntry {
  perturbation: Perturbation;
  params: JsonObject;
  seed: number;
}

function applyEntries(task: Task, tools: readonly ToolSpec[], entries: readonly SeededEntry[], base: EpisodeSettings = {}): PerturbedEpisode {
  // Perturbations read the run's own settings (a turn limit that overrides the task's); the
  // episode's settings are only what they changed.
  let target: PerturbationTarget = { task, tools, settings: base };
  const originalNames = namesIn(tools);
  let retired: ReadonlySet<string> = new Set();
  let changed: EpisodeSettings = {};
  const layers: ToolLayer[] = [];
  const reseeds: ((seed: number) => number)[] = [];
  let conversation: ConversationPlan | undefined;
  const records: PerturbationRecord[] = [];
  const skipped: SkippedPerturbation[] = [];
  for (const { perturbation, params, seed } of entries) {
    const reason = perturbation.supports(target, params);
    if (reason !== null) {
      skipped.push({ id: perturbation.id, reason });
      continue;
    }
    const effect = perturbation.apply(target, { rng: createRng(seed), params });
    let next = effect.task ?? target.task;
    let nextTools = target.tools;
    if (effect.layer) {
      layers.push(effect.layer);
      next = { ...next, golden: { ...next.golden, steps: effect.layer.lift(next.golden.steps) } };
      nextTools = effect.layer.tools;
      const shownNames = namesIn(nextTools);
      retired = new Set([...originalNames].filter((name) => !shownNames.has(name)));
    }
    if (effect.reseed) reseeds.push(effect.reseed);
    if (effect.conversation) conversation = effect.conversation;
    records.push({ name: perturbation.id, params, seed });
    target = { task: next, tools: nextTools, settings: { ...target.settings, ...effect.settings }, retired };
    changed = { ...changed, ...effect.settings };
  }
  const plan = { base: tools, layers, ...(conversation ? { conversation } : {}) };
  return {
    task: target.task,
    tools: [...target.tools],
    worldSeed: (seed) => reseeds.reduce((s, f) => f(s), seed),
    wrapEnvironment: (environment) => wrapEnvironment(environment, plan),
    settings: changed,
    records,
    skipped,
  };
}

export interface PerturbEpisodeOptions {
  task: Task;
  /** The tools the episode's environment offers: `toolsOf(definition)`. */
  tools: readonly ToolSpec[];
  resolved: ResolvedPerturbations;
  /** The run's or suite's seed; each perturbation's own seed derives from it. */
  seed: number;
  /**
   * The run's turn limit where it overrides the task's (`--max-turns`): `scaffold.budget` scales
   * this one, so a halved budget is half of what the baseline gets, not half of the task's limit.
   */
  maxTurns?: number;
}

/** Applies resolved perturbations to one task's episode. Pure: the same inputs give the same episode. */
export function perturbEpisode(options: PerturbEpisodeOptions): PerturbedEpisode {
  const entries = options.resolved.entries.map((e) => ({ ...e, seed: perturbationSeed(options.seed, options.task.id, e.perturbation.id) }));
  return applyEntries(options.task, options.tools, entries, options.maxTurns !== undefined ? { maxTurns: options.maxTurns } : {});
}

/** Rebuilds a rollout's perturbed episode from its records (ids, params and seeds as stored). */
export function replayPerturbations(options: { task: Task; tools: readonly ToolSpec[]; records: readonly PerturbationRecord[] }): PerturbedEpisode {
  const resolved = resolvePerturbations(
    options.records.map((r) => ({ id: r.name, params: r.params })),
    'perturbations',
  );
  const seeds = new Map(options.records.map((r) => [r.name, r.seed]));
  const entries = resolved.entries.map((e) => ({ ...e, seed: seeds.get(e.perturbation.id) ?? 0 }));
  return applyEntries(options.task, options.tools, entries);
}

const definitionTools = new WeakMap<EnvironmentDefinition, ToolSpec[]>();

/** The tools an environment definition offers, as the agent sees them unperturbed. */
export function toolsOf(definition: EnvironmentDefinition): ToolSpec[] {
  let specs = definitionTools.get(definition);
  if (!specs) {
    specs = Object.entries(definition.tools).map(([name, tool]) => ({ name, description: tool.description, parameters: toolParametersSchema(tool.input) }));
    definitionTools.set(definition, specs);
  }
  return specs;
}

/** Whether an id names a perturbation (for front ends that list them). */
export function isPerturbationId(id: string): boolean {
  return findPerturbation(id) !== undefined;
}
