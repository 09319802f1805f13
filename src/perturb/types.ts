import type { z } from 'zod';
import type { Clock, ContextPolicySpec, JsonObject, Rng, ScaffoldName, Task, ToolInvocation, ToolOutcome, ToolSpec } from '../core/index.ts';
import type { FormatName } from '../formats/index.ts';

/** Where a perturbation acts; also the first segment of its id (`tools.rename`). */
export const FAMILIES = ['environment', 'tools', 'responses', 'prompts', 'scaffold'] as const;
export type Family = (typeof FAMILIES)[number];

/**
 * What the runner applies besides the task and the environment: the scaffold (and, for
 * `text-tools`, the tool-call format), and turn and context budgets.
 */
export interface EpisodeSettings {
  scaffold?: ScaffoldName;
  /** The text format tool calls go through (with scaffold `text-tools`). */
  toolFormat?: FormatName;
  maxTurns?: number;
  context?: ContextPolicySpec;
}

/** The episode as perturbed so far: later perturbations see earlier ones' results (renamed tools, …). */
export interface PerturbationTarget {
  /** The task as the agent will get it; its golden solution is in terms of `tools`. */
  readonly task: Task;
  /** The tools the agent will be offered, as perturbed so far. */
  readonly tools: readonly ToolSpec[];
  readonly settings: Readonly<EpisodeSettings>;
  /**
   * The environment's own tool and parameter names that an earlier perturbation renamed away: a
   * tool a later one adds (a distractor, a read-on tool) must not bring one back into view.
   */
  readonly retired?: ReadonlySet<string>;
}

export interface ApplyContext<P> {
  /** Seeded from the suite seed, the task id and the perturbation id. */
  rng: Rng;
  params: P;
}

/** A call one layer passes down to the layers below it (and finally the environment). */
export type CallBelow = (tool: string, args: JsonObject) => Promise<ToolOutcome>;

/** What a layer may use during an episode. */
export interface LayerEpisode {
  /** The environment's seeded clock. */
  readonly clock: Clock;
  readonly signal: AbortSignal;
}

/** A layer's state for one episode (counters, cursors): made fresh at every reset. */
export interface LayerSession {
  /** Answers a call made in this layer's terms: itself, or by passing it below (renamed, reshaped). */
  call(tool: string, args: JsonObject, below: CallBelow, episode: LayerEpisode): Promise<ToolOutcome>;
}

/**
 * One change to the tool interface the agent sees. Layers stack: each offers `tools` to the one
 * above and translates calls to the one below. `lift` rewrites the golden solution from the terms
 * below into this layer's terms, so the oracle still solves the task; `lower` does the opposite for
 * a recorded call, so checks that read the transcript see the environment's own names.
 */
export interface ToolLayer {
  readonly tools: readonly ToolSpec[];
  lift(steps: readonly ToolInvocation[]): ToolInvocation[];
  lower(call: ToolInvocation): ToolInvocation;
  open(): LayerSession;
}

/**
 * User turns the agent gets after it answers, before the environment's own follow-ups (an
 * instruction split across turns). `parts[i]` answers the agent's (i + 1)-th reply.
 */
export interface ConversationPlan {
  parts: string[];
}

/** What one perturbation changes; anything left out stays as it was. */
export interface PerturbationEffect {
  task?: Task;
  layer?: ToolLayer;
  settings?: EpisodeSettings;
  /** A different world for the same rollout: maps the rollout's seed to the one reset gets. */
  reseed?: (seed: number) => number;
  conversation?: ConversationPlan;
}

/**
 * A seeded, pure transform of an episode. `apply` must depend only on the target, the params and
 * the rng, so the same seed always gives a byte-identical perturbed task.
 */
export interface Perturbation<S extends z.ZodType<JsonObject> = z.ZodType<JsonObject>> {
  readonly id: string;
  readonly family: Family;
  readonly summary: string;
  readonly params: S;
  /** Whether different seeds give different results with these params (false for fixed settings). */
  randomised(params: z.output<S>): boolean;
  /** Why this perturbation cannot apply to the target (`null` when it can). */
  supports(target: PerturbationTarget, params: z.output<S>): string | null;
  apply(target: PerturbationTarget, context: ApplyContext<z.output<S>>): PerturbationEffect;
}

/** Registers a perturbation with its params schema; the catalog holds them under one type. */
export function definePerturbation<S extends z.ZodType<JsonObject>>(perturbation: Perturbation<S>): Perturbation {
  return perturbation as unknown as Perturbation;
}
