// One episode lifecycle for every caller (runs, validation, the MCP server, the gateway, the
// OpenEnv server, workers): instantiate → reset → drive → verify → close, under a watchdog, with
// failures mapped one way everywhere. The driver is the agent loop, or an external agent.
import type { AgentResult } from '../agent/index.ts';
import {
  DefectError,
  errorMessage,
  InfraError,
  timerDelay,
  type AttemptIdentity,
  type DefectSource,
  type Environment,
  type FailureKind,
  type InfraSource,
  type Judge,
  type McpServerConfig,
  type RolloutRecorder,
  type Task,
  type VerifierOutcome,
} from '../core/index.ts';
import { instantiate, type EnvironmentDefinition, type UserSimulator } from '../envs/index.ts';
import { connectMcpTools, withMcpTools } from '../envs/interop/index.ts';
import { sandboxAvailability, type SandboxBackend } from '../sandbox/index.ts';

export interface EpisodeSpec {
  definition: EnvironmentDefinition;
  task: Task;
  seed: number;
  sandbox?: SandboxBackend;
  judge?: Judge;
  /** Plays the simulated user of tasks that have one; the scripted user when absent. */
  user?: UserSimulator;
  mcpServers?: readonly McpServerConfig[];
  signal?: AbortSignal;
  /** Where the environment's close is tracked, for the run to wait on; the process-wide tracker when absent. */
  closing?: ClosingEnvironments;
}

/** A reset environment, ready for an agent; `close` is always safe to call (and never hangs the caller). */
export interface LiveEpisode {
  environment: Environment;
  /** Extra context for the first user turn, from reset. */
  observation?: string;
  close(): Promise<void>;
}

/** How long a finished run (or a stopping thread or worker) waits for its sandboxes to finish closing. */
const ENVIRONMENT_CLOSE_WAIT_MS = 15_000;

/**
 * Environment closes still under way. An episode never waits for its environment to close (a hung
 * one must not hang the run), but a run must not return, nor a process end, before they finish: a
 * pod or remote sandbox whose delete was cut off stays until its lease runs out.
 */
export class ClosingEnvironments {
  private readonly closing = new Set<Promise<unknown>>();

  track(close: Promise<unknown> | undefined): void {
    if (!close) return;
    const settled: Promise<unknown> = close.catch(() => undefined).finally(() => this.closing.delete(settled));
    this.closing.add(settled);
  }

  /** Waits for the closes tracked so far, at most `timeoutMs`; false when some were still under way then. */
  async settled(timeoutMs: number = ENVIRONMENT_CLOSE_WAIT_MS): Promise<boolean> {
    if (this.closing.size === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    try {
      return await Promise.race([Promise.allSettled([...this.closing]).then(() => true), late]);
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Closes of episodes whose callers track none of their own (a worker process, a rollout thread: one scope each). */
export const processClosing = new ClosingEnvironments();

/** Instantiates and resets; on failure nothing is left open. Throws InfraError or DefectError. */
export async function openEpisode(spec: EpisodeSpec): Promise<LiveEpisode> {
  let environment = instantiate(spec.definition, {
    ...(spec.sandbox ? { sandbox: spec.sandbox } : {}),
    ...(spec.judge ? { judge: spec.judge } : {}),
    ...(spec.user ? { user: spec.user } : {}),
  });
  try {
    if (spec.mcpServers && spec.mcpServers.length > 0) {
      // Each episode gets its own server processes: no state leaks between episodes.
      // Servers run inside bubblewrap when the episode's sandbox is bwrap; never silently on the host instead.
      const inBwrap = spec.sandbox === 'bwrap' || (spec.sandbox !== 'virtual' && (await sandboxAvailability()).bwrap.available);
      environment = withMcpTools(environment, await connectMcpTools({ servers: [...spec.mcpServers], sandbox: inBwrap ? 'bwrap' : 'none' }));
    }
    const reset = await environment.reset(spec.task, { seed: spec.seed, ...(spec.signal ? { signal: spec.signal } : {}) });
    const live = environment;
    return { environment: live, ...(reset.observation ? { observation: reset.observation } : {}), close: () => live.close().catch(() => undefined) };
  } catch (error) {
    (spec.closing ?? processClosing).track(environment.close());
    throw error;
  }
}

/** How an episode ended, before scoring. */
export type EpisodeOutcome =
  | { kind: 'done'; result: AgentResult; verifier: VerifierOutcome }
  | { kind: 'cancelled'; result: AgentResult | null }
  | { kind: 'infra'; source: InfraSource; failure: FailureKind; message: string; retryable: boolean }
  | { kind: 'error'; source: DefectSource; message: string };

/**
 * Plays an episode in place of Gauntlet's agent loop: an external agent program, say. The runner
 * still instantiates, resets and verifies the environment; the driver records its model calls and
 * events through `recorder` and reports how the episode ended. Injected by the caller (the CLI),
 * so the runner never depends on what implements it.
 */
export interface EpisodeDriver {
  /** Stored as the rollouts' scaffold, e.g. `agent:pi`. */
  readonly name: string;
  drive(input: EpisodeDriverInput): Promise<AgentResult>;
}

export interface EpisodeDriverInput {
  task: Task;
  episode: LiveEpisode;
  identity: AttemptIdentity;
  recorder: RolloutRecorder;
  /** Absolute time (by `now`) at which the episode's deadline fires. */
  deadlineAt: number;
  now: () => number;
  signal?: AbortSignal;
  policyVersion?: string | (() => string | undefined);
}

export interface DriveContext {
  /** Absolute time (by `now`) at which the episode's deadline fires. */
  deadlineAt: number;
  signal?: AbortSignal;
}

export interface RunEpisodeOptions extends EpisodeSpec {
  deadlineMs: number;
  /** Extra time after the deadline before the watchdog abandons the episode. */
  graceMs: number;
  now: () => number;
  /** Sealed when the watchdog abandons the episode, so nothing is recorded after its end. */
  recorder: RolloutRecorder & { seal?(): void };
  drive(episode: LiveEpisode, context: DriveContext): Promise<AgentResult>;
}

/** Maps whatever an episode threw to its outcome: infrastructure, or a defect in someone's code. */
export function outcomeOfError(error: unknown): Extract<EpisodeOutcome, { kind: 'infra' | 'error' }> {
  if (error instanceof InfraError) return { kind: 'infra', source: error.source, failure: error.kind, message: error.message, retryable: error.retryable };
  if (error instanceof DefectError) return { kind: 'error', source: error.source, message: error.message };
  return { kind: 'error', source: 'gauntlet', message: `unexpected failure: ${errorMessage(error)}` };
}

/**
 * Runs one episode to its outcome. Whatever hangs (a tool ignoring its signal, a stuck sandbox),
 * the watchdog ends it `graceMs` after the deadline as an environment infra error; from then on
 * the recorder is sealed and the environment closed, so the abandoned work writes nothing.
 *
 * The deadline is the agent's time: it starts once the episode is open (as the OpenEnv server's
 * does), so a slow reset (a sandbox starting, an image building) never runs the model out of time
 * it never had, and the watchdog allows for that reset too. A cancel (`signal`) gives the episode
 * `graceMs` to stop; one that has not by then is abandoned as cancelled, so an interrupted run
 * never waits out a hung tool's whole deadline.
 */
export async function runEpisode(options: RunEpisodeOptions): Promise<EpisodeOutcome> {
  const { recorder } = options;
  // Reset and verification of some tasks take long by design (an imported task's build and tests): not a hang.
  const graceMs = options.graceMs + (options.definition.overheadMs?.(options.task) ?? 0);
  const opening = performance.now();
  // When the watchdog abandons the episode (by performance.now()); moved by the reset's length and by a cancel.
  let due = opening + options.deadlineMs + graceMs;
  // A signal of the episode's own: a run's one signal would otherwise carry a listener per episode in flight.
  const cancel = options.signal && AbortSignal.any([options.signal]);
  let live: LiveEpisode | undefined;
  let abandoned = false;
  const work = (async (): Promise<EpisodeOutcome> => {
    try {
      live = await openEpisode(options);
      if (abandoned) return { kind: 'cancelled', result: null };
      // A cancel's grace is not lengthened by the reset.
      if (!cancel?.aborted) due += performance.now() - opening;
      const result = await options.drive(live, { deadlineAt: options.now() + options.deadlineMs, ...(options.signal ? { signal: options.signal } : {}) });
      if (result.infraError) return { kind: 'infra', source: result.infraError.source, failure: result.infraError.kind, message: result.infraError.message, retryable: result.infraError.retryable };
      if (result.terminationReason === 'cancelled') return { kind: 'cancelled', result };
      const verifier = await live.environment.verify({ answer: result.answer, messages: result.history });
      recorder.event('rollout_finished', { terminationReason: result.terminationReason, passed: verifier.passed, checks: verifier.checks });
      return { kind: 'done', result, verifier };
    } catch (error) {
      return outcomeOfError(error);
    }
  })();
  let watchdog: NodeJS.Timeout | undefined;
  let onCancel: (() => void) | undefined;
  const expired = new Promise<EpisodeOutcome>((resolve) => {
    const check = () => {
      const left = due - performance.now();
      // Not yet: the reset moved the time on, or the delay was longer than a timer can wait.
      if (left >= 1) {
        watchdog = setTimeout(check, timerDelay(left));
        return;
      }
      abandoned = true;
      recorder.seal?.();
      if (cancel?.aborted) return resolve({ kind: 'cancelled', result: null });
      resolve({
        kind: 'infra',
        source: 'environment',
        failure: 'watchdog',
        message: `the episode did not stop within ${graceMs} ms after its ${options.deadlineMs} ms deadline (abandoned; nothing after that was recorded)`,
        retryable: false,
      });
    };
    onCancel = () => {
      due = Math.min(due, performance.now() + options.graceMs);
      clearTimeout(watchdog);
      watchdog = setTimeout(check, timerDelay(due - performance.now()));
    };
    if (cancel?.aborted) onCancel();
    else {
      cancel?.addEventListener('abort', onCancel, { once: true });
      watchdog = setTimeout(check, timerDelay(due - opening));
    }
  });
  try {
    return await Promise.race([work, expired]);
  } finally {
    clearTimeout(watchdog);
    if (onCancel) cancel?.removeEventListener('abort', onCancel);
    // Closing a hung environment must not hang the caller either; the run waits for it, bounded.
    (options.closing ?? processClosing).track(live?.close());
    // An abandoned episode closes whenever its work gives up, if ever: nothing to wait for.
    if (abandoned) void work.then(() => live?.close());
  }
}
