// The environment as a perturbed episode shows it: tool layers between the agent and the
// environment, and extra user turns. Everything else (state, snapshots, the verifier) is the
// environment's own, so the task is judged exactly as without perturbations. It may wrap an
// environment before or after reset: layer state starts fresh at construction and at every reset.
import type {
  CallOptions,
  Environment,
  FinalTrajectory,
  FollowUpOptions,
  JsonObject,
  Message,
  ResetOptions,
  ResetResult,
  ToolInvocation,
  ToolOutcome,
  ToolSpec,
  VerifierOutcome,
} from '../core/index.ts';
import type { CallBelow, ConversationPlan, LayerSession, ToolLayer } from './types.ts';

export interface WrapPlan {
  /** The tools the layers were built over (the environment's own): anything else the environment offers passes through unchanged. */
  base: readonly ToolSpec[];
  layers: readonly ToolLayer[];
  conversation?: ConversationPlan;
}

/** A recorded call in the environment's own terms, through every layer from the top down. */
function lowerCall(layers: readonly ToolLayer[], call: ToolInvocation): ToolInvocation {
  let out = call;
  for (let i = layers.length - 1; i >= 0; i--) out = layers[i]!.lower(out);
  return out;
}

/** The transcript as the environment would have seen it: tool names and arguments lowered. */
function lowerMessages(layers: readonly ToolLayer[], messages: readonly Message[]): Message[] {
  return messages.map((message): Message => {
    if (message.role === 'assistant' && message.toolCalls.length > 0) {
      return {
        ...message,
        toolCalls: message.toolCalls.map((call) => {
          if (call.arguments === null) return { ...call, name: lowerCall(layers, { tool: call.name, arguments: {} }).tool };
          const lowered = lowerCall(layers, { tool: call.name, arguments: call.arguments });
          return { ...call, name: lowered.tool, arguments: lowered.arguments, argumentsText: JSON.stringify(lowered.arguments) };
        }),
      };
    }
    if (message.role === 'tool') return { ...message, name: lowerCall(layers, { tool: message.name, arguments: {} }).tool };
    return message;
  });
}

class PerturbedEnvironment implements Environment {
  readonly specificationVersion = 'v1' as const;
  readonly name: string;
  private sessions: LayerSession[];
  private readonly baseNames: Set<string>;
  private readonly top: readonly ToolSpec[];
  private readonly topNames: Set<string>;

  constructor(
    private readonly inner: Environment,
    private readonly plan: WrapPlan,
  ) {
    this.name = inner.name;
    this.baseNames = new Set(plan.base.map((t) => t.name));
    this.top = plan.layers.at(-1)?.tools ?? plan.base;
    this.topNames = new Set(this.top.map((t) => t.name));
    this.sessions = plan.layers.map((layer) => layer.open());
  }

  get clock() {
    return this.inner.clock;
  }

  async reset(task: Parameters<Environment['reset']>[0], options: ResetOptions): Promise<ResetResult> {
    // Fresh layer state (counters, cursors) for every episode.
    this.sessions = this.plan.layers.map((layer) => layer.open());
    return this.inner.reset(task, options);
  }

  /** Tools the environment offers beyond the ones the layers know (MCP servers' tools). */
  private extras(): ToolSpec[] {
    return this.inner.tools().filter((t) => !this.baseNames.has(t.name) && !this.topNames.has(t.name));
  }

  tools(): ToolSpec[] {
    return [...this.top, ...this.extras()];
  }

  async call(tool: string, args: unknown, options: CallOptions): Promise<ToolOutcome> {
    if (!this.topNames.has(tool)) {
      if (this.extras().some((t) => t.name === tool)) return this.inner.call(tool, args, options);
      return { ok: false, kind: 'unknown_tool', error: `unknown tool "${tool}"; available: ${this.tools().map((t) => t.name).join(', ')}` };
    }
    if (args !== undefined && (args === null || typeof args !== 'object' || Array.isArray(args))) {
      return { ok: false, kind: 'invalid_arguments', error: `invalid arguments for ${tool}: expected a JSON object` };
    }
    const episode = { clock: this.inner.clock, signal: options.signal };
    const below = (level: number): CallBelow => {
      if (level < 0) return (name, a) => this.inner.call(name, a, options);
      const session = this.sessions[level]!;
      return (name, a) => session.call(name, a, below(level - 1), episode);
    };
    return below(this.sessions.length - 1)(tool, (args ?? {}) as JsonObject);
  }

  snapshot(): Promise<JsonObject> {
    return this.inner.snapshot();
  }

  verify(final: FinalTrajectory): Promise<VerifierOutcome> {
    if (!final.messages || this.plan.layers.length === 0) return this.inner.verify(final);
    return this.inner.verify({ ...final, messages: lowerMessages(this.plan.layers, final.messages) });
  }

  /** The environment's destructive calls, in the terms the agent sees (the destructive policy issues them as tool calls). */
  async destructiveActions(): Promise<ToolInvocation[]> {
    let steps = await this.inner.destructiveActions();
    for (const layer of this.plan.layers) steps = layer.lift(steps);
    return steps;
  }

  async followUp(answer: string, answered: number, options: FollowUpOptions = {}): Promise<string | null> {
    const parts = this.plan.conversation?.parts ?? [];
    if (answered <= parts.length) return parts[answered - 1] ?? null;
    return this.inner.followUp ? this.inner.followUp(answer, answered - parts.length, options) : null;
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

/** The environment seen through the plan; the environment itself when the plan changes nothing it does. */
export function wrapEnvironment(inner: Environment, plan: WrapPlan): Environment {
  if (plan.layers.length === 0 && !plan.conversation) return inner;
  return new PerturbedEnvironment(inner, plan);
}
