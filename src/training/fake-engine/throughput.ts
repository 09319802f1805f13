// Requests per second of the fake engine on 10-turn tool-using conversations, at 1 and 64
// concurrent conversations, streamed and not: the baseline a gateway in front of it is compared
// with. The engine runs in its own process, so the clients' work is not counted against it.
// Run: node --import tsx src/training/fake-engine/throughput.ts [--turns 10] [--rounds 3]
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startFakeEngine, toolWalkPolicy } from './index.ts';
import { assembleChatStream, type ChatMessage } from './stream-reader.ts';

interface Target {
  url: string;
  model: string;
}

const TOOLS = [
  { type: 'function', function: { name: 'read_file', description: 'Read a file of the workspace.', parameters: { type: 'object', properties: { path: { type: 'string' }, start_line: { type: 'integer', minimum: 1 } }, required: ['path'] } } },
  { type: 'function', function: { name: 'run_command', description: 'Run a shell command and return its output.', parameters: { type: 'object', properties: { cmd: { type: 'string' }, timeout_s: { type: 'number', maximum: 600 } }, required: ['cmd'] } } },
  { type: 'function', function: { name: 'edit_file', description: 'Replace text in a file.', parameters: { type: 'object', properties: { path: { type: 'string' }, old: { type: 'string' }, new: { type: 'string' } }, required: ['path', 'old', 'new'] } } },
];

const TOOL_OUTPUT = 'src/parser.ts:41: expected a closing bracket\n'.repeat(12);

type Message = ChatMessage;

/** Reads an event stream into the assistant message, as an OpenAI client accumulates it. */
async function readStream(response: Response): Promise<{ message: Message; finish: string | null }> {
  return assembleChatStream(await response.text());
}

/** One conversation: tool turns until the policy answers; returns the number of requests made. */
async function conversation(engine: Target, index: number, stream: boolean): Promise<number> {
  const messages: Message[] = [
    { role: 'system', content: 'You are a careful coding agent working in a TypeScript repository.' },
    { role: 'user', content: `Conversation ${index}: the build fails in src/parser.ts; find out why and fix it.` },
  ];
  for (let requests = 1; ; requests++) {
    const response = await fetch(`${engine.url}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: engine.model, messages, tools: TOOLS, logprobs: true, return_token_ids: true, stream }),
    });
    if (response.status !== 200) throw new Error(`HTTP ${response.status}: ${await response.text()}`);
    let message: Message;
    let finish: string | null;
    if (stream) ({ message, finish } = await readStream(response));
    else {
      const body = (await response.json()) as { choices: { message: Message; finish_reason: string }[] };
      const choice = body.choices[0] as { message: Message; finish_reason: string };
      ({ message } = choice);
      finish = choice.finish_reason;
    }
    messages.push({ role: 'assistant', content: message.content, reasoning: message.reasoning ?? null, ...(message.tool_calls?.length ? { tool_calls: message.tool_calls } : {}) });
    if (finish !== 'tool_calls') return requests;
    for (const call of message.tool_calls as { id: string }[]) messages.push({ role: 'tool', tool_call_id: call.id, content: TOOL_OUTPUT });
  }
}

export interface ThroughputFigure {
  concurrency: number;
  stream: boolean;
  requests: number;
  seconds: number;
  requestsPerSecond: number;
  /** CPU time the engine process spent per request: steady when the machine is shared, unlike wall time. */
  engineCpuMsPerRequest: number;
}

/** Starts the engine in a child process (this file with --serve) and reads its URL from the first line it prints. */
async function spawnEngine(turns: number): Promise<Target & { cpuMs(): Promise<number>; stop(): void }> {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--serve', '--turns', String(turns)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout });
  const first = await new Promise<string>((resolve, reject) => {
    lines.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`the engine process exited (code ${code}) before it was ready`)));
  });
  const target = JSON.parse(first) as Target;
  const cpuMs = (): Promise<number> =>
    new Promise((resolve) => {
      lines.once('line', (line) => resolve((JSON.parse(line) as { cpuMs: number }).cpuMs));
      child.kill('SIGUSR2');
    });
  return { ...target, cpuMs, stop: () => void child.kill() };
}

export async function measureThroughput(options: { turns: number; rounds: number; concurrency: readonly number[] }): Promise<ThroughputFigure[]> {
  const engine = await spawnEngine(options.turns);
  const figures: ThroughputFigure[] = [];
  try {
    // Warm-up (JIT, caches), in both modes, before anything is timed.
    await Promise.all([-1, -2, -3, -4].flatMap((i) => [conversation(engine, i, false), conversation(engine, i - 4, true)]));
    for (const stream of [false, true]) {
      for (const concurrency of options.concurrency) {
        const cpuBefore = await engine.cpuMs();
        const started = performance.now();
        let requests = 0;
        for (let round = 0; round < options.rounds; round++) {
          const counts = await Promise.all(Array.from({ length: concurrency }, (_unused, i) => conversation(engine, round * concurrency + i, stream)));
          requests += counts.reduce((a, b) => a + b, 0);
        }
        const seconds = (performance.now() - started) / 1000;
        const cpu = (await engine.cpuMs()) - cpuBefore;
        figures.push({ concurrency, stream, requests, seconds, requestsPerSecond: requests / seconds, engineCpuMsPerRequest: cpu / requests });
      }
    }
  } finally {
    engine.stop();
  }
  return figures;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { turns: { type: 'string', default: '10' }, rounds: { type: 'string', default: '3' }, serve: { type: 'boolean', default: false } } });
  if (values.serve) {
    const engine = await startFakeEngine({ policy: toolWalkPolicy({ turns: Number(values.turns) }), seed: 1 });
    process.stdout.write(`${JSON.stringify({ url: engine.url, model: engine.model })}\n`);
    process.on('SIGUSR2', () => {
      const used = process.cpuUsage();
      process.stdout.write(`${JSON.stringify({ cpuMs: (used.user + used.system) / 1000 })}\n`);
    });
  } else {
    const figures = await measureThroughput({ turns: Number(values.turns), rounds: Number(values.rounds), concurrency: [1, 64] });
    for (const f of figures) {
      process.stdout.write(`concurrency ${String(f.concurrency).padStart(2)} ${f.stream ? 'stream    ' : 'non-stream'}: ${f.requestsPerSecond.toFixed(1)} requests/s (${f.requests} requests in ${f.seconds.toFixed(2)} s; engine CPU ${f.engineCpuMsPerRequest.toFixed(2)} ms/request)\n`);
    }
  }
}
