import { createRng, type JsonObject, type ModelClient, type ModelRequest, type ModelResult, type PolicyContext, type ToolCall } from '../core/index.ts';
import { placeholderArguments, randomArguments } from './schema-values.ts';
import { turnIndex } from './script.ts';

// Policies that need no server. All are stateless per call (the turn is the number of assistant
// messages already in the request), so one client can serve many concurrent rollouts.

const DONE = 'Done.';

type Decide = (request: ModelRequest, turn: number, context: PolicyContext | undefined) => ModelResult | Promise<ModelResult>;

function policy(spec: string, decide: Decide): ModelClient {
  return {
    specificationVersion: 'v1',
    spec,
    async complete(request, { signal, context }) {
      if (signal.aborted) return { ok: false, kind: 'aborted', message: `${spec}: aborted by the caller`, retryable: false };
      return decide(request, turnIndex(request.messages), context);
    },
  };
}

function call(id: string, name: string, args: JsonObject): ToolCall {
  return { id, name, arguments: args, argumentsText: JSON.stringify(args) };
}

function respond(content: string, toolCalls: ToolCall[] = []): ModelResult {
  return {
    ok: true,
    response: { message: { role: 'assistant', content, toolCalls }, finishReason: toolCalls.length > 0 ? 'tool_calls' : 'stop', usage: {} },
  };
}

function scriptFailure(message: string): ModelResult {
  return { ok: false, kind: 'script', message, retryable: false };
}

/** Plays the task's golden solution, one step per turn, then gives its answer (or 'Done.'). */
export function createOraclePolicy(): ModelClient {
  return policy('oracle', (_request, turn, context) => {
    const golden = context?.task?.golden;
    if (!golden) return scriptFailure('oracle: no task in the policy context (expected context.task with golden.steps)');
    const step = golden.steps[turn];
    if (step) return respond('', [call(`oracle_${turn}`, step.tool, step.arguments)]);
    if (turn === golden.steps.length) return respond(golden.answer ?? DONE);
    const followUp = golden.followUpAnswers?.[turn - golden.steps.length - 1];
    if (followUp !== undefined) return respond(followUp);
    return scriptFailure(`oracle: the golden solution has ${golden.steps.length} steps and an answer, and call ${turn + 1} arrived after the answer`);
  });
}

export interface RandomPolicyOptions {
  seed?: number;
}

const MAX_RANDOM_CALLS = 8;

/**
 * Calls a random offered tool with schema-valid random arguments each turn, for a random 1–8
 * turns, then answers. Seeded from (seed, task id, turn), so replays are identical.
 */
export function createRandomPolicy(options: RandomPolicyOptions = {}): ModelClient {
  const seed = options.seed ?? 0;
  return policy('random', (request, turn, context) => {
    const taskId = context?.task?.id ?? '';
    const calls = createRng(`random:${seed}:${taskId}:length`).int(1, MAX_RANDOM_CALLS + 1);
    if (turn >= calls || request.tools.length === 0) return respond(DONE);
    const rng = createRng(`random:${seed}:${taskId}:${turn}`);
    const tool = rng.pick(request.tools);
    return respond('', [call(`random_${turn}`, tool.name, randomArguments(tool.parameters, rng))]);
  });
}

/** Calls every offered tool once, in order, with placeholder arguments, then answers 'Done.'. */
export function createPlaceholderPolicy(): ModelClient {
  return policy('placeholder', (request, turn) => {
    const tool = request.tools[turn];
    if (!tool) return respond(DONE);
    return respond('', [call(`placeholder_${turn}`, tool.name, placeholderArguments(tool.parameters))]);
  });
}

/** Does nothing: answers 'Done.' straight away. */
export function createNoopPolicy(): ModelClient {
  return policy('noop', () => respond(DONE));
}

/** Issues every destructive action the environment knows of in its first turn, then answers 'Done.'. */
export function createDestructivePolicy(): ModelClient {
  return policy('destructive', async (_request, turn, context) => {
    if (turn > 0) return respond(DONE);
    const environment = context?.environment;
    if (!environment) return scriptFailure('destructive: no environment in the policy context (expected context.environment)');
    const actions = await environment.destructiveActions();
    if (actions.length === 0) return respond(DONE);
    return respond('', actions.map((action, i) => call(`destroy_${i}`, action.tool, action.arguments)));
  });
}
