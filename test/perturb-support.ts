// Helpers for the perturbation tests: the oracle's play of a perturbed task replayed straight
// through the wrapped environment (the calls the oracle would make, turn by turn, without the
// model loop), suites that cover every perturbation and variant, and scripted models.
import { estimateTokens } from '../src/agent/index.ts';
import { stableStringify, type Message, type ModelClient, type ModelResult, type Task, type ToolCall, type ToolInvocation, type ToolOutcome, type ToolSpec } from '../src/core/index.ts';
import { instantiate, type EnvironmentDefinition } from '../src/envs/index.ts';
import { parseCompletion, renderCompletion, type FormatName } from '../src/formats/index.ts';
import { turnIndex } from '../src/model/script.ts';
import { goldenTurns, type PerturbedEpisode } from '../src/perturb/index.ts';
import type { SandboxBackend } from '../src/sandbox/index.ts';

const ORACLE_DEFAULT_ANSWER = 'Done.';

export interface Replay {
  passed: boolean;
  problems: string[];
  /** Every tool outcome in order, for determinism checks. */
  outcomes: ToolOutcome[];
  finalState: string;
}

/**
 * Plays the perturbed golden solution as the oracle would through the agent loop: one call per
 * turn in the episode's terms, a submit ends it, otherwise the answer and the follow-up answers;
 * then the wrapped environment's verifier. With text tool calling each call goes through the
 * format's render and parse first, as a model's would. Also checks the turn and context budgets.
 */
export async function replayGolden(definition: EnvironmentDefinition, episode: PerturbedEpisode, options: { seed: number; sandbox?: SandboxBackend }): Promise<Replay> {
  const task = episode.task;
  const problems: string[] = [];
  const outcomes: ToolOutcome[] = [];
  const environment = episode.wrapEnvironment(instantiate(definition, { sandbox: options.sandbox ?? 'virtual' }));
  const signal = new AbortController().signal;
  try {
    await environment.reset(task, { seed: episode.worldSeed(options.seed) });
    const offered = new Set(environment.tools().map((t) => t.name));
    const history: Message[] = [
      { role: 'system', content: task.systemPrompt ?? '' },
      { role: 'user', content: task.instruction },
    ];
    let answer: string | null = null;
    let submitted = false;
    const format = episode.settings.scaffold === 'text-tools' ? episode.settings.toolFormat : undefined;
    for (const [i, golden] of task.golden.steps.entries()) {
      const step = format ? throughFormat(golden, format, episode.tools) : golden;
      if (!step) {
        problems.push(`golden step ${i} (${golden.tool}) does not come back as one call through ${format}`);
        continue;
      }
      if (!offered.has(step.tool)) problems.push(`golden step ${i} calls ${step.tool}, which the agent is not offered`);
      const call: ToolCall = { id: `oracle_${i}`, name: step.tool, arguments: step.arguments, argumentsText: JSON.stringify(step.arguments) };
      history.push({ role: 'assistant', content: '', toolCalls: [call] });
      const outcome = await environment.call(step.tool, step.arguments, { signal, callId: call.id });
      outcomes.push(outcome);
      history.push({ role: 'tool', toolCallId: call.id, name: call.name, content: outcome.ok ? outcome.content : `Error: ${outcome.error}`, isError: !outcome.ok });
      if (!outcome.ok && outcome.kind !== 'transient') problems.push(`golden step ${i} (${step.tool}) failed: ${outcome.error}`);
      if (outcome.ok && outcome.endsEpisode) {
        answer = outcome.answer ?? null;
        submitted = true;
        break;
      }
    }
    if (!submitted) {
      answer = task.golden.answer ?? ORACLE_DEFAULT_ANSWER;
      history.push({ role: 'assistant', content: answer, toolCalls: [] });
      for (let answered = 1; ; answered++) {
        const next = await environment.followUp?.(answer, answered);
        if (next === null || next === undefined) break;
        const reply = task.golden.followUpAnswers?.[answered - 1];
        if (reply === undefined) {
          problems.push(`follow-up ${answered} has no golden answer`);
          break;
        }
        history.push({ role: 'user', content: next }, { role: 'assistant', content: reply, toolCalls: [] });
        answer = reply;
      }
    }
    const turns = episode.settings.maxTurns ?? task.limits.maxTurns;
    if (turns < goldenTurns(task)) problems.push(`the turn budget (${turns}) is below the ${goldenTurns(task)} turns the golden solution needs`);
    const budget = episode.settings.context?.budgetTokens;
    if (budget !== undefined && estimateTokens(history) > budget) problems.push(`the golden trajectory (${estimateTokens(history)} tokens) outgrows the context budget ${budget}`);
    const verdict = await environment.verify({ answer, messages: history });
    if (!verdict.passed) problems.push(`verifier fails: ${verdict.checks.filter((c) => !c.passed).map((c) => `${c.name}${c.detail ? ` (${c.detail})` : ''}`).join('; ')}`);
    return { passed: problems.length === 0, problems, outcomes, finalState: stableStringify(await environment.snapshot()) };
  } finally {
    await environment.close();
  }
}

/**
 * A golden call as it comes back after the model wrote it in a text format: rendered by the
 * format, then parsed as the engine would. Null when it does not come back as one call of that tool.
 */
export function throughFormat(step: ToolInvocation, format: FormatName, tools: readonly ToolSpec[]): ToolInvocation | null {
  const text = renderCompletion(format, { content: '', toolCalls: [{ name: step.tool, arguments: step.arguments }] });
  const parsed = parseCompletion(format, text, { tools });
  const call = parsed.toolCalls[0];
  if (parsed.toolCalls.length !== 1 || call?.name !== step.tool || call.arguments === null) return null;
  return { tool: call.name, arguments: call.arguments };
}

function respond(content: string, calls: { name: string; arguments: Record<string, unknown> }[] = [], turn = 0): ModelResult {
  const toolCalls = calls.map((c, i) => ({ id: `call_${turn}_${i}`, name: c.name, arguments: c.arguments as ToolCall['arguments'], argumentsText: JSON.stringify(c.arguments) }));
  return { ok: true, response: { message: { role: 'assistant', content, toolCalls }, finishReason: toolCalls.length > 0 ? 'tool_calls' : 'stop', usage: {} } };
}

/**
 * Plays a golden solution one step a turn, then its answer and follow-up answers — the golden
 * solution `solutionFor` picks, so a test can make a model that knows only the original task.
 */
export function goldenPlayer(spec: string, solutionFor: (perturbed: Task) => Task, options: { giveUp?: (history: readonly Message[]) => boolean } = {}): ModelClient {
  return {
    specificationVersion: 'v1',
    spec,
    async complete(request, { context }) {
      const perturbed = context?.task;
      if (!perturbed) return { ok: false, kind: 'script', message: `${spec}: no task in the context`, retryable: false };
      if (options.giveUp?.(request.messages)) return respond('I cannot make sense of the tool output.');
      const golden = solutionFor(perturbed).golden;
      const turn = turnIndex(request.messages);
      const step = golden.steps[turn];
      if (step) return respond('', [{ name: step.tool, arguments: step.arguments }], turn);
      if (turn === golden.steps.length) return respond(golden.answer ?? ORACLE_DEFAULT_ANSWER);
      const reply = golden.followUpAnswers?.[turn - golden.steps.length - 1];
      return respond(reply ?? ORACLE_DEFAULT_ANSWER);
    },
  };
}

/** Whether the last tool result the model saw is a Markdown table. */
export function sawTable(history: readonly Message[]): boolean {
  const last = history.at(-1);
  return last?.role === 'tool' && /^\|.*\|\n\|( ?---+ ?\|)+/m.test(last.content);
}

/**
 * Five arms that together apply every perturbation and every variant that changes calls, results,
 * the world or the budgets (each arm composes many, in catalog order), so "every task × every
 * perturbation" is a few episodes per task. Variants that only change text the environment never
 * reads (the other system-prompt languages, the thinking mode) are covered by the unit tests.
 */
export const COMPOSITES: readonly (readonly string[])[] = [
  [
    'environment.reseed',
    'tools.schema:nest',
    'tools.rename:synonym',
    'tools.describe:rewrite',
    'tools.distractors:count=6',
    'tools.reorder',
    'responses.transient',
    'responses.noise',
    'responses.format:table',
    'responses.truncate:maxChars=200',
    'prompts.system:terse',
    'prompts.paraphrase:framed',
    'prompts.split',
    'scaffold.thinking:drop-thinking',
    'scaffold.budget:turns=0.1',
  ],
  [
    'environment.size:scale=2',
    'tools.schema:require-defaults',
    'tools.rename:opaque',
    'tools.describe:shorten',
    'responses.transient:rate=1,times=3',
    'responses.format:text',
    'prompts.system:verbose',
    'prompts.paraphrase:bulleted',
    'prompts.split:parts=4',
    'scaffold.tools:text,format=hermes',
    'scaffold.budget:contextTokens=24000',
  ],
  [
    'environment.layout:files=20',
    'tools.schema:extra-optional',
    'tools.rename:case,parameters=false',
    'tools.describe:lengthen',
    'responses.noise:fields=6',
    'responses.format:json',
    'prompts.system:persona',
    'prompts.paraphrase:casual',
    'scaffold.tools:text,format=minimax-xml',
  ],
  [
    'environment.size:scale=0.5',
    'tools.schema:enum-to-string',
    'tools.rename:namespace',
    'responses.truncate:maxChars=500',
    'prompts.system:language,language=fr',
    'prompts.paraphrase:formal',
    'scaffold.tools:text,format=openai-json',
    'scaffold.budget:turns=3',
  ],
  ['tools.schema:bool-to-enum', 'tools.rename:synonym,parameters=false', 'prompts.system:language,language=de', 'scaffold.tools:native'],
];
