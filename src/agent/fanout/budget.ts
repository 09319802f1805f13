// The shared budget of a fan-out: tokens, dollars and wall time spent by all its agents together.
import { z } from 'zod';
import { InputError, parseInput, type ModelRequest, type ModelResponse } from '../../core/index.ts';

export const FanoutLimits = z
  .object({
    /** Prompt + completion tokens over every call of every agent. */
    tokens: z.number().int().positive().optional(),
    /** Needs `pricing`. */
    dollars: z.number().positive().optional(),
    /** From the start of the fan-out. */
    wallMs: z.number().int().positive().optional(),
  })
  .strict();
export type FanoutLimits = z.infer<typeof FanoutLimits>;

export const Pricing = z
  .object({
    promptPerMillion: z.number().nonnegative(),
    completionPerMillion: z.number().nonnegative(),
  })
  .strict();
export type Pricing = z.infer<typeof Pricing>;

export type BudgetReason = 'tokens' | 'dollars' | 'wall_time';

export interface CallCost {
  promptTokens: number;
  completionTokens: number;
  /** True when the endpoint reported no usage and the counts are estimated from text length. */
  estimated: boolean;
}

export interface BudgetSpent {
  tokens: number;
  dollars: number;
  /** Calls whose token counts were estimated (no usage reported). */
  estimatedCalls: number;
}

// About four characters per token: only used when an endpoint (or a scripted model) reports no usage.
const CHARS_PER_TOKEN = 4;

/** What a call cost: the endpoint's usage when reported, else an estimate from the text. */
export function costOf(request: ModelRequest, response: ModelResponse): CallCost {
  // A count that is not a whole number of tokens (NaN, negative, fractional, past 2^53) is no
  // usage at all: NaN would stop the budget ever running out, a negative count would refund it.
  const promptTokens = countOf(response.usage?.promptTokens);
  const completionTokens = countOf(response.usage?.completionTokens);
  if (promptTokens !== undefined && completionTokens !== undefined) return { promptTokens, completionTokens, estimated: false };
  const promptChars = request.messages.reduce((n, m) => n + m.content.length, 0);
  const message = response.message;
  const completionChars = message.content.length + (message.reasoning?.text.length ?? 0) + message.toolCalls.reduce((n, c) => n + c.name.length + JSON.stringify(c.arguments).length, 0);
  return {
    promptTokens: promptTokens ?? Math.ceil(promptChars / CHARS_PER_TOKEN),
    completionTokens: completionTokens ?? Math.ceil(completionChars / CHARS_PER_TOKEN),
    estimated: true,
  };
}

function countOf(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : undefined;
}

/**
 * What a call may cost, known before it is sent: the prompt from its text (tool specs included),
 * the completion up to `maxTokens` when the request sets it, else as much as the largest seen so far.
 */
export function estimateOf(request: ModelRequest, largestCompletion: number): { promptTokens: number; completionTokens: number } {
  const chars = request.messages.reduce((n, m) => n + m.content.length, 0) + (request.tools.length > 0 ? JSON.stringify(request.tools).length : 0);
  return { promptTokens: Math.ceil(chars / CHARS_PER_TOKEN), completionTokens: request.sampling.maxTokens ?? largestCompletion };
}

/** A call let through the gate: its estimate is held against the budget until it settles. */
export interface Reservation {
  /** The call is over (answered, failed or aborted): its estimate no longer holds budget. Idempotent. */
  release(): void;
}

/**
 * Spending against limits. Once a limit is reached the budget stays exhausted: the fan-out starts
 * no agent and sends no call after that, and cancels the agents still running.
 */
export class SharedBudget {
  readonly limits: FanoutLimits;
  private readonly pricing: Pricing | undefined;
  private readonly startedAt: number;
  private readonly now: () => number;
  private reason: BudgetReason | null = null;
  readonly spent: BudgetSpent = { tokens: 0, dollars: 0, estimatedCalls: 0 };
  /** Calls sent and not yet settled, and the estimates they hold. */
  private readonly inFlight = { calls: 0, tokens: 0, dollars: 0 };
  private largestCompletion = 0;
  /** Callers waiting for an in-flight call to settle, to try the gate again. */
  private readonly waiting = new Set<() => void>();

  constructor(options: { limits: FanoutLimits; pricing?: Pricing; now: () => number }) {
    // Checked here as well as by callers' schemas: a NaN limit is never reached and a negative price refunds.
    const limits = parseInput(FanoutLimits, options.limits, 'fan-out limits');
    const pricing = options.pricing === undefined ? undefined : parseInput(Pricing, options.pricing, 'fan-out pricing');
    if (limits.dollars !== undefined && !pricing) {
      throw new InputError('fan-out budget', 'a dollar limit needs pricing', '{ pricing: { promptPerMillion, completionPerMillion } }');
    }
    if (limits.dollars !== undefined && pricing && pricing.promptPerMillion === 0 && pricing.completionPerMillion === 0) {
      throw new InputError('fan-out budget', `a dollar limit of ${limits.dollars} can never be reached when every token is free (price 0:0)`, 'a non-zero price, or no dollar limit');
    }
    this.limits = limits;
    this.pricing = pricing;
    this.now = options.now;
    this.startedAt = options.now();
  }

  /**
   * Lets a call through the gate, or says it must wait. Without a token or dollar limit every call
   * passes. With one, a call passes when nothing else is in flight (so calls made one at a time
   * behave as before: sent while budget is left), or when its estimate fits in what is left beside
   * the estimates of the calls in flight. Otherwise it waits (`settled`): checking only "spent <
   * limit" let every agent in flight send a call before any had paid, `concurrency` times the budget.
   * The caller checks `exhausted()` first.
   */
  tryReserve(request: ModelRequest): Reservation | 'wait' {
    const { tokens, dollars } = this.limits;
    if (tokens === undefined && dollars === undefined) return { release: () => {} };
    const estimate = estimateOf(request, this.largestCompletion);
    const estTokens = estimate.promptTokens + estimate.completionTokens;
    const estDollars = this.priced(estimate);
    const fits =
      (tokens === undefined || this.spent.tokens + this.inFlight.tokens + estTokens < tokens) &&
      (dollars === undefined || this.spent.dollars + this.inFlight.dollars + estDollars < dollars);
    if (this.inFlight.calls > 0 && !fits) return 'wait';
    this.inFlight.calls++;
    this.inFlight.tokens += estTokens;
    this.inFlight.dollars += estDollars;
    let held = true;
    return {
      release: () => {
        if (!held) return;
        held = false;
        this.inFlight.calls--;
        this.inFlight.tokens -= estTokens;
        this.inFlight.dollars -= estDollars;
        // No float residue left holding budget once nothing is in flight.
        if (this.inFlight.calls === 0) this.inFlight.tokens = this.inFlight.dollars = 0;
        for (const wake of [...this.waiting]) wake();
      },
    };
  }

  /** Resolves when a call in flight settles (the gate may open) or `signal` aborts. */
  settled(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal.aborted) return resolve();
      const wake = (): void => {
        this.waiting.delete(wake);
        signal.removeEventListener('abort', wake);
        resolve();
      };
      this.waiting.add(wake);
      signal.addEventListener('abort', wake, { once: true });
    });
  }

  charge(cost: CallCost): void {
    this.largestCompletion = Math.max(this.largestCompletion, cost.completionTokens);
    this.spent.tokens += cost.promptTokens + cost.completionTokens;
    if (cost.estimated) this.spent.estimatedCalls++;
    this.spent.dollars += this.priced(cost);
    this.check();
  }

  private priced(cost: { promptTokens: number; completionTokens: number }): number {
    if (!this.pricing) return 0;
    return (cost.promptTokens * this.pricing.promptPerMillion + cost.completionTokens * this.pricing.completionPerMillion) / 1_000_000;
  }

  /** Why the budget is gone, or null while some is left. Checks the clock too. */
  exhausted(): BudgetReason | null {
    this.check();
    return this.reason;
  }

  /** Milliseconds of wall time left (Infinity without a wall limit). */
  wallLeftMs(): number {
    return this.limits.wallMs === undefined ? Infinity : Math.max(0, this.startedAt + this.limits.wallMs - this.now());
  }

  /** Marks the budget gone (the wall-time timer fired). */
  expire(reason: BudgetReason): void {
    this.reason ??= reason;
  }

  private check(): void {
    if (this.reason) return;
    const { tokens, dollars, wallMs } = this.limits;
    if (tokens !== undefined && this.spent.tokens >= tokens) this.reason = 'tokens';
    else if (dollars !== undefined && this.spent.dollars >= dollars) this.reason = 'dollars';
    else if (wallMs !== undefined && this.now() - this.startedAt >= wallMs) this.reason = 'wall_time';
  }
}
