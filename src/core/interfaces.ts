import type { Clock, Rng } from './random.ts';
import type { JsonObject } from './json.ts';
import type { Message } from './messages.ts';
import type { ModelRequest, ModelResponse, WireExchange } from './model-call.ts';
import type { TerminationReason, VerifierOutcome } from './rollout.ts';
import type { Task } from './task.ts';
import type { ToolInvocation, ToolOutcome, ToolSpec } from './tools.ts';

// ── Models ────────────────────────────────────────────────────────────────────────────────

/** What a policy may know besides the request: the task (oracle), a seeded stream (random). */
export interface PolicyContext {
  task?: Task;
  rng?: Rng;
  /** The episode's environment, for policies that probe it (the destructive validation policy). */
  environment?: Environment;
}

export interface CompleteOptions {
  signal: AbortSignal;
  context?: PolicyContext;
  /** Per-request timeout for this call (each retry its own), overriding the client's default. */
  timeoutMs?: number;
}

/**
 * Why a model call failed. Every kind but `output_too_large` and `unusable_output` (the model's own
 * doing: the rollout ends as `invalid_output`, scored) is infrastructure, and the rollout becomes
 * `infra_error`. `unusable_output` is model output that cannot be returned to the model as a tool
 * error, because the API could not take the turn back (an Anthropic tool input that is not a JSON
 * object).
 */
export type ModelFailureKind = 'connection' | 'http' | 'timeout' | 'malformed_response' | 'aborted' | 'script' | 'output_too_large' | 'unusable_output';

export type ModelResult =
  | { ok: true; response: ModelResponse; wire?: WireExchange }
  | {
      ok: false;
      kind: ModelFailureKind;
      message: string;
      retryable: boolean;
      wire?: WireExchange;
      /** How long the endpoint had sent nothing when the call ended (across its retries): tells a hung endpoint from a slow model. */
      silentMs?: number;
    };

/** Version 1 of the model interface. Adapters are factories returning this. */
export interface ModelClient {
  readonly specificationVersion: 'v1';
  /** The spec it was built from, without secrets (`openai:http://…#model`). */
  readonly spec: string;
  complete(request: ModelRequest, options: CompleteOptions): Promise<ModelResult>;
  /**
   * Told when a rollout it played ends (not by an infra error), with the whole conversation. A
   * client that knows how the rollout should have gone (a script) throws a DefectError when it did
   * not: the rollout is then `error`, never scored.
   */
  rolloutEnded?(end: { reason: TerminationReason; history: readonly Message[] }): void;
  close?(): Promise<void>;
}

// ── Sandboxes ─────────────────────────────────────────────────────────────────────────────

export interface ExecOptions {
  timeoutMs: number;
  signal?: AbortSignal;
  cwd?: string;
  env?: Record<string, string>;
  stdin?: string;
}

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  /** Output past the sandbox's limit was cut. */
  truncated: boolean;
  durationMs: number;
  /**
   * Set when the sandbox itself died or could not run the command (why, in words). The exit code
   * and output then say nothing about the command, so a tool must raise an infrastructure error
   * rather than show them to the model. A command that hit its own time or memory limit is not this.
   */
  sandboxFailure?: string;
}

export interface FileEntry {
  path: string;
  size: number;
  sha256: string;
}

/** What a caller may ask of one `readFile`; a normal caller asks nothing and gets the whole file. */
export interface ReadFileOptions {
  /**
   * The most bytes of the file (as stored) the read may bring into memory. A larger file is
   * refused with the sandbox's FileTooLargeError (src/sandbox/files.ts), read no further than
   * this; one that grows past it while being read is refused too. For a server bounding what one
   * read may hold; other callers leave it out.
   */
  maxBytes?: number;
}

/** Version 1 of the sandbox interface: untrusted commands run only through one of these. */
export interface Sandbox {
  readonly specificationVersion: 'v1';
  /** `virtual` is the in-process shell; the others run real processes (`k8s`: a pod per sandbox). */
  readonly backend: 'virtual' | 'bwrap' | 'k8s';
  /** Absolute path of the agent's working directory inside the sandbox. */
  readonly workdir: string;
  exec(command: string, options: ExecOptions): Promise<ExecResult>;
  readFile(path: string, options?: ReadFileOptions): Promise<string | null>;
  writeFile(path: string, content: string): Promise<void>;
  /** Every file under the work dir, for snapshots and invariants. */
  listFiles(): Promise<FileEntry[]>;
  close(): Promise<void>;
}

// ── Environments ──────────────────────────────────────────────────────────────────────────

export interface FinalTrajectory {
  answer: string | null;
  messages?: Message[];
}

/** Asks a judge model one question and returns its reply (LLM-judge grading). Throws InfraError when the judge fails. */
export type Judge = (prompt: string, signal: AbortSignal) => Promise<string>;

export interface ResetOptions {
  seed: number;
  signal?: AbortSignal;
}

export interface ResetResult {
  /** Extra context for the first user turn (e.g. a listing the task promises). */
  observation?: string;
}

/** A follow-up turn is bounded by what bounds the agent's tool calls: the rollout's deadline and cancel. */
export interface FollowUpOptions {
  signal?: AbortSignal;
}

export interface CallOptions {
  signal: AbortSignal;
  /** The provider's call id, for environments that log it. */
  callId?: string;
}

/**
 * Version 1 of the environment interface. One instance serves one episode at a time; `reset`
 * starts it, `call` runs the agent's tool calls, `verify` judges the final state.
 * Infrastructure failures throw `InfraError`; everything the agent did wrong is a `ToolOutcome`.
 */
export interface Environment {
  readonly specificationVersion: 'v1';
  readonly name: string;
  reset(task: Task, options: ResetOptions): Promise<ResetResult>;
  /** Tools offered for the current episode (after reset). */
  tools(): ToolSpec[];
  call(tool: string, args: unknown, options: CallOptions): Promise<ToolOutcome>;
  /** The full state, deterministic for the same seed and actions. */
  snapshot(): Promise<JsonObject>;
  /** Judge the final state. `messages` is the agent's transcript, for checks about the trajectory. */
  verify(final: FinalTrajectory): Promise<VerifierOutcome>;
  /** Tool calls that would damage the current state (delete, overwrite): used to prove verifiers catch it. */
  destructiveActions(): Promise<ToolInvocation[]>;
  /**
   * The next user turn after the model answered, for multi-turn tasks (a scripted or simulated
   * user); null ends the episode. `answered` counts the model's answers so far.
   */
  followUp?(answer: string, answered: number, options?: FollowUpOptions): Promise<string | null>;
  /** The episode's clock (seeded); tools and world events read it. */
  readonly clock: Clock;
  close(): Promise<void>;
}
