// Formats: how fast completions parse in every tool-call format (whole text and as a 16-byte-chunk
// stream) and how long a model's chat template takes to render a 100-turn tool-using conversation
// (and gpt-oss's, which rescans the rest of the conversation for every tool call, at 500 turns).
import type { JsonObject, ToolSpec } from '../src/core/index.ts';
import { FORMAT_NAMES, FORMATS, loadChatTemplate, type AssistantTurn, type ChatMessage, type FormatName, type ParseOptions } from '../src/formats/index.ts';
import type { BenchFigure } from './types.ts';

const FIXTURES = new URL('../test/fixtures/formats/', import.meta.url).pathname;
const CORPUS_TURNS = 400;
const MIN_SECONDS = 0.4;

const TOOLS: ToolSpec[] = [
  { name: 'search_files', description: 'Search the repository.', parameters: { type: 'object', properties: { query: { type: 'string' }, max_results: { type: 'integer' }, regex: { type: 'boolean' } } } },
  { name: 'edit_file', description: 'Replace text in a file.', parameters: { type: 'object', properties: { path: { type: 'string' }, old: { type: 'string' }, new: { type: 'string' } } } },
  { name: 'run_tests', description: 'Run tests.', parameters: { type: 'object', properties: { paths: { type: 'array' }, env: { type: 'object' }, timeout_s: { type: 'number' } } } },
];

/** A small seeded generator, so every run measures the same corpus. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = ['the', 'failing', 'test', 'imports', 'parser', 'config', 'so', 'I', 'should', 'check', 'whether', 'value', 'is', 'null', 'before', 'édition', '修复', 'then', 'rerun'];

function sentence(next: () => number, words: number): string {
  return Array.from({ length: words }, () => WORDS[Math.floor(next() * WORDS.length)]).join(' ');
}

function argumentsFor(tool: string, next: () => number): JsonObject {
  switch (tool) {
    case 'search_files':
      return { query: sentence(next, 3), max_results: Math.floor(next() * 50), regex: next() < 0.5 };
    case 'edit_file':
      return { path: `src/module_${Math.floor(next() * 90)}.ts`, old: `if (value == null) {\n  return ${sentence(next, 2)};\n}`, new: `if (value === null) {\n  throw new Error("${sentence(next, 4)}");\n}` };
    default:
      return { paths: ['src/a.test.ts', 'src/b.test.ts'], env: { CI: '1', SEED: Math.floor(next() * 1000) }, timeout_s: 30.5 };
  }
}

function turns(count: number): AssistantTurn[] {
  const next = rng(7);
  return Array.from({ length: count }, () => {
    const calls = 1 + Math.floor(next() * 3);
    return {
      reasoning: sentence(next, 40 + Math.floor(next() * 40)),
      content: next() < 0.5 ? sentence(next, 12) : '',
      toolCalls: Array.from({ length: calls }, () => {
        const tool = TOOLS[Math.floor(next() * TOOLS.length)] as ToolSpec;
        return { name: tool.name, arguments: argumentsFor(tool.name, next) };
      }),
    };
  });
}

/** Runs `work` until at least MIN_SECONDS have passed; returns seconds per run. */
function timePerRun(work: () => void): number {
  work(); // warm up
  let runs = 0;
  const started = performance.now();
  while (performance.now() - started < MIN_SECONDS * 1000) {
    work();
    runs++;
  }
  return (performance.now() - started) / 1000 / runs;
}

function chunked(text: string, size: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

function parseFigures(format: FormatName, corpus: AssistantTurn[]): BenchFigure[] {
  const spec = FORMATS[format];
  const texts = corpus.map((turn) => spec.render(turn));
  const chunks = texts.map((text) => chunked(text, 16));
  const megabytes = texts.reduce((n, text) => n + Buffer.byteLength(text), 0) / 1e6;
  // The renderers write reasoning the way their model's prompt expects it; DeepSeek-V3.1 writes it
  // after a prompt that opened <think> (its thinking mode), which its parser is told.
  const options: ParseOptions = { tools: TOOLS, ...(format === 'deepseek-v3.1' ? { promptOpensThink: true } : {}) };
  let calls = 0;
  const whole = timePerRun(() => {
    calls = 0;
    for (const text of texts) calls += spec.parse(text, options).toolCalls.length;
  });
  const expected = corpus.reduce((n, turn) => n + turn.toolCalls.length, 0);
  if (calls !== expected) throw new Error(`bench: ${format} parsed ${calls} calls from a corpus of ${expected}`);
  const streamed = timePerRun(() => {
    for (const parts of chunks) {
      const parser = spec.createStreamParser(options);
      for (const part of parts) parser.push(part);
      parser.finish();
    }
  });
  const wholeSpeed = megabytes / whole;
  const streamSpeed = megabytes / streamed;
  return [
    { name: `${format} parse`, value: round(wholeSpeed), unit: 'MB/s', note: `${corpus.length} turns, ${calls} calls, ${megabytes.toFixed(2)} MB` },
    {
      name: `${format} streaming parse (16-byte chunks)`,
      value: round(streamSpeed),
      unit: 'MB/s',
      baseline: { name: 'whole-text parse', value: round(wholeSpeed), unit: 'MB/s' },
      ratio: streamSpeed / wholeSpeed,
    },
  ];
}

function conversation(assistantTurns: AssistantTurn[]): ChatMessage[] {
  const messages: ChatMessage[] = [{ role: 'system', content: 'You are a careful coding agent.' }, { role: 'user', content: 'Fix the failing test in the parser module.' }];
  assistantTurns.forEach((turn, i) => {
    messages.push({
      role: 'assistant',
      content: turn.content,
      reasoning_content: turn.reasoning ?? '',
      tool_calls: turn.toolCalls.map((call, j) => ({ id: `call_${i}_${j}`, type: 'function', function: call })),
    });
    turn.toolCalls.forEach((call, j) => messages.push({ role: 'tool', content: `ok: ${JSON.stringify(call.arguments).slice(0, 120)}`, tool_call_id: `call_${i}_${j}`, name: call.name }));
  });
  return messages;
}

async function renderFigures(): Promise<BenchFigure[]> {
  const messages = conversation(turns(100));
  const tools = TOOLS.map((tool) => ({ type: 'function' as const, function: { name: tool.name, description: tool.description, parameters: tool.parameters } }));
  const figures: BenchFigure[] = [];
  const gptOss = 'templates/gpt-oss/chat_template';
  const runs: [string, string, ChatMessage[]][] = [
    ['qwen3-style', 'qwen3-style', messages],
    ['minimax-m2-style', 'minimax-m2-style', messages],
    ['gpt-oss', gptOss, messages],
    ['gpt-oss', gptOss, conversation(turns(500))],
  ];
  for (const [name, file, conversationMessages] of runs) {
    const template = await loadChatTemplate(`${FIXTURES}${file}.jinja`, { now: () => new Date(2026, 0, 5) });
    let chars = 0;
    const seconds = timePerRun(() => {
      const result = template.render({ messages: conversationMessages, tools, addGenerationPrompt: true });
      if (!result.ok) throw new Error(result.message);
      chars = result.text.length;
    });
    const turnCount = conversationMessages.filter((m) => m.role === 'assistant').length;
    figures.push({ name: `render ${turnCount}-turn conversation (${name} template)`, value: round(seconds * 1000), unit: 'ms', note: `${conversationMessages.length} messages, ${chars.toLocaleString('en-US')} characters` });
  }
  return figures;
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}

export async function run(): Promise<BenchFigure[]> {
  const corpus = turns(CORPUS_TURNS);
  const figures: BenchFigure[] = [];
  for (const format of FORMAT_NAMES) figures.push(...parseFigures(format, corpus));
  figures.push(...(await renderFigures()));
  return figures;
}
