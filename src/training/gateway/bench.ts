// What the gateway costs: the latency it adds to each call and the throughput it keeps, against
// calling the fake engine directly, on multi-turn tool-using conversations, at 1 and 64
// concurrent conversations, streamed (as agents call) and not. The engine, the gateway and the
// clients each run in their own process, so what the gateway costs is its own CPU and one more
// hop, not a share of the clients' event loop; every call through the gateway is recorded (into a
// recorder that keeps nothing), as in real use. CPU time per request of the gateway and of the
// engine is reported too: on a shared machine it holds steady where wall-clock figures do not.
// Run: node --import tsx src/training/gateway/bench.ts [--turns 10] [--rounds 2] [--paired 12]
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { RolloutId, RunId } from '../../core/index.ts';
import { assembleChatStream, startFakeEngine, toolWalkPolicy, type ChatMessage } from '../fake-engine/index.ts';
import { gatewayBaseUrl, startGateway } from './index.ts';

const TOOLS = [
  { type: 'function', function: { name: 'read_file', description: 'Read a file of the workspace.', parameters: { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] } } },
  { type: 'function', function: { name: 'run_command', description: 'Run a shell command and return its output.', parameters: { type: 'object', properties: { cmd: { type: 'string' } }, required: ['cmd'] } } },
];
const TOOL_OUTPUT = 'src/parser.ts:41: expected a closing bracket\n'.repeat(12);

type Message = ChatMessage;

interface Answer {
  message: Message;
  finish: string | null;
  ms: number;
}

/** One request, timed from send to the last byte; the answer read as a client accumulates it. */
async function ask(base: string, body: object, stream: boolean): Promise<Answer> {
  const started = performance.now();
  const response = await fetch(`${base}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...body, stream }) });
  const text = await response.text();
  const ms = performance.now() - started;
  if (response.status !== 200) throw new Error(`HTTP ${response.status}: ${text.slice(0, 300)}`);
  if (!stream) {
    const choice = (JSON.parse(text) as { choices: { message: Message; finish_reason: string }[] }).choices[0]!;
    return { message: choice.message, finish: choice.finish_reason, ms };
  }
  return { ...assembleChatStream(text), ms };
}

/** A conversation to its answer; `send` makes each request (one target, or both for paired timings). */
async function conversation(index: number, send: (body: object) => Promise<Answer>): Promise<number> {
  const messages: Message[] = [
    { role: 'system', content: 'You are a careful coding agent working in a TypeScript repository.' },
    { role: 'user', content: `Conversation ${index}: the build fails in src/parser.ts; find out why and fix it.` },
  ];
  for (let requests = 1; ; requests++) {
    const { message, finish } = await send({ messages, tools: TOOLS });
    messages.push({ role: 'assistant', content: message.content, reasoning: message.reasoning ?? null, ...(message.tool_calls?.length ? { tool_calls: message.tool_calls } : {}) });
    if (finish !== 'tool_calls') return requests;
    for (const call of message.tool_calls ?? []) messages.push({ role: 'tool', tool_call_id: call.id, content: TOOL_OUTPUT });
  }
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export interface GatewayBenchCase {
  concurrency: number;
  stream: boolean;
  /** Median added latency per request, in ms: paired (same request both ways) at concurrency 1, else the difference of the medians. */
  addedP50Ms: number;
  directP50Ms: number;
  directRequestsPerSecond: number;
  gatewayRequestsPerSecond: number;
  throughputRatio: number;
  requests: number;
  /** The gateway process's CPU per request it served (recording included). */
  gatewayCpuMsPerRequest: number;
  engineCpuMsPerRequest: number;
}

export interface GatewayBenchOptions {
  /** Tool turns per conversation before the answer. */
  turns?: number;
  /** Rounds of `concurrency` conversations per throughput phase. */
  rounds?: number;
  /** Conversations timed request by request at concurrency 1. */
  paired?: number;
  concurrency?: readonly number[];
}

interface Child {
  url: string;
  model: string;
  /** The child's CPU time so far (user + system). */
  cpuMs(): Promise<number>;
  stop(): void;
}

/** Starts this file in a child process (`--serve-engine` or `--serve-gateway`) and reads its URL from the first line it prints. */
async function spawnChild(args: string[]): Promise<Child> {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout });
  const first = await new Promise<string>((resolve, reject) => {
    lines.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`the ${args[0]} process exited (code ${code}) before it was ready`)));
  });
  const cpuMs = (): Promise<number> =>
    new Promise((resolve) => {
      lines.once('line', (line) => resolve((JSON.parse(line) as { cpuMs: number }).cpuMs));
      child.kill('SIGUSR2');
    });
  return { ...(JSON.parse(first) as { url: string; model: string }), cpuMs, stop: () => void child.kill() };
}

function ownCpuMs(): number {
  const used = process.cpuUsage();
  return (used.user + used.system) / 1000;
}

/** Rollouts the gateway process attaches before it starts, each with a recorder that discards what it is given. */
const BENCH_ROLLOUTS = 4000;

export async function gatewayBench(options: GatewayBenchOptions = {}): Promise<GatewayBenchCase[]> {
  const turns = options.turns ?? 10;
  const rounds = options.rounds ?? 2;
  const paired = options.paired ?? 12;
  const engine = await spawnChild(['--serve-engine', '--turns', String(turns)]);
  const gateway = await spawnChild(['--serve-gateway', engine.url]);
  let rollouts = 0;
  const rolloutUrl = (): string => {
    if (rollouts >= BENCH_ROLLOUTS) throw new Error(`the bench needs more than ${BENCH_ROLLOUTS} rollouts; fewer rounds, or more rollouts`);
    return gatewayBaseUrl(gateway.url, `ro_${rollouts++}`);
  };
  const cases: GatewayBenchCase[] = [];
  try {
    // Warm-up (JIT, the engine's caches), both ways and both modes, before anything is timed.
    await Promise.all([0, 1, 2, 3].flatMap((i) => [false, true].flatMap((stream) => [conversation(-1 - i, (b) => ask(engine.url, b, stream)), conversation(-1 - i, (b) => ask(rolloutUrl(), b, stream))])));
    for (const stream of [true, false]) {
      for (const concurrency of options.concurrency ?? [1, 64]) {
        const phase = async (via: boolean): Promise<{ rps: number; latencies: number[]; requests: number; cpuMs: number; engineCpuMs: number }> => {
          const latencies: number[] = [];
          const gatewayBefore = await gateway.cpuMs();
          const engineBefore = await engine.cpuMs();
          const started = performance.now();
          let requests = 0;
          // One conversation at a time finishes quickly: more of them, for a steadier figure.
          const phaseRounds = concurrency === 1 ? rounds * 8 : rounds;
          for (let round = 0; round < phaseRounds; round++) {
            const counts = await Promise.all(
              Array.from({ length: concurrency }, (_unused, i) => {
                const base = via ? rolloutUrl() : engine.url;
                return conversation(round * concurrency + i, async (body) => {
                  const answer = await ask(base, body, stream);
                  latencies.push(answer.ms);
                  return answer;
                });
              }),
            );
            requests += counts.reduce((a, b) => a + b, 0);
          }
          const rps = requests / ((performance.now() - started) / 1000);
          return { rps, latencies, requests, cpuMs: (await gateway.cpuMs()) - gatewayBefore, engineCpuMs: (await engine.cpuMs()) - engineBefore };
        };
        const direct = await phase(false);
        const via = await phase(true);
        let added = median(via.latencies) - median(direct.latencies);
        if (concurrency === 1) {
          // The same request both ways, in alternating order, so the engine's own variation cancels out.
          const differences: number[] = [];
          for (let i = 0; i < paired; i++) {
            const base = rolloutUrl();
            let turn = 0;
            await conversation(1000 + i, async (body) => {
              const first = turn++ % 2 === 0;
              const a = await ask(first ? engine.url : base, body, stream);
              const b = await ask(first ? base : engine.url, body, stream);
              differences.push(first ? b.ms - a.ms : a.ms - b.ms);
              return b;
            });
          }
          added = median(differences);
        }
        cases.push({
          concurrency,
          stream,
          addedP50Ms: added,
          directP50Ms: median(direct.latencies),
          directRequestsPerSecond: direct.rps,
          gatewayRequestsPerSecond: via.rps,
          throughputRatio: via.rps / direct.rps,
          requests: direct.requests + via.requests,
          gatewayCpuMsPerRequest: via.cpuMs / via.requests,
          engineCpuMsPerRequest: (direct.engineCpuMs + via.engineCpuMs) / (direct.requests + via.requests),
        });
      }
    }
  } finally {
    gateway.stop();
    engine.stop();
  }
  return cases;
}

/** The figures in the shape `npm run bench` prints (bench/types.ts BenchFigure). */
export interface GatewayBenchFigure {
  name: string;
  value: number;
  unit: string;
  baseline?: { name: string; value: number; unit: string };
  ratio?: number;
  note?: string;
}

export async function gatewayBenchFigures(options: GatewayBenchOptions = {}): Promise<GatewayBenchFigure[]> {
  const cases = await gatewayBench(options);
  return cases.flatMap((c) => {
    const what = `${c.concurrency} concurrent ${c.concurrency === 1 ? 'conversation' : 'conversations'}, ${c.stream ? 'streamed' : 'not streamed'}`;
    return [
      { name: `gateway added latency p50, ${what}`, value: c.addedP50Ms, unit: 'ms', baseline: { name: 'direct p50', value: Number(c.directP50Ms.toFixed(2)), unit: 'ms' }, note: c.concurrency === 1 ? 'paired requests' : 'difference of medians' },
      {
        name: `gateway throughput, ${what}`,
        value: c.gatewayRequestsPerSecond,
        unit: 'requests/s',
        baseline: { name: 'direct', value: Number(c.directRequestsPerSecond.toFixed(1)), unit: 'requests/s' },
        ratio: c.throughputRatio,
        note: 'every call recorded',
      },
      {
        name: `gateway CPU per request, ${what}`,
        value: c.gatewayCpuMsPerRequest,
        unit: 'ms',
        baseline: { name: 'engine CPU per request', value: Number(c.engineCpuMsPerRequest.toFixed(3)), unit: 'ms' },
        ratio: c.gatewayCpuMsPerRequest / c.engineCpuMsPerRequest,
        note: 'the gateway keeps up with an engine on its own core while this stays below 1×',
      },
    ];
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { turns: { type: 'string', default: '10' }, rounds: { type: 'string', default: '2' }, paired: { type: 'string', default: '12' }, 'serve-engine': { type: 'boolean', default: false }, 'serve-gateway': { type: 'boolean', default: false } },
  });
  if (values['serve-gateway']) {
    const gateway = await startGateway({ upstream: positionals[0] as string, engine: 'vllm' });
    const discard = { modelCall: () => {}, event: () => {} };
    for (let i = 0; i < BENCH_ROLLOUTS; i++) gateway.attach({ identity: { runId: 'run_bench' as RunId, rolloutId: `ro_${i}` as RolloutId, attempt: 1 }, recorder: discard });
    process.stdout.write(`${JSON.stringify({ url: gateway.url, model: '' })}\n`);
    process.on('SIGUSR2', () => process.stdout.write(`${JSON.stringify({ cpuMs: ownCpuMs() })}\n`));
  } else if (values['serve-engine']) {
    const engine = await startFakeEngine({ policy: toolWalkPolicy({ turns: Number(values.turns) }), seed: 1 });
    process.stdout.write(`${JSON.stringify({ url: engine.url, model: engine.model })}\n`);
    process.on('SIGUSR2', () => process.stdout.write(`${JSON.stringify({ cpuMs: ownCpuMs() })}\n`));
  } else {
    const cases = await gatewayBench({ turns: Number(values.turns), rounds: Number(values.rounds), paired: Number(values.paired) });
    for (const c of cases) {
      process.stdout.write(
        `concurrency ${String(c.concurrency).padStart(2)} ${c.stream ? 'stream    ' : 'non-stream'}: added p50 ${c.addedP50Ms.toFixed(3)} ms (direct p50 ${c.directP50Ms.toFixed(2)} ms); ` +
          `${c.gatewayRequestsPerSecond.toFixed(1)} vs ${c.directRequestsPerSecond.toFixed(1)} requests/s direct = ${c.throughputRatio.toFixed(3)}×; ` +
          `gateway CPU ${c.gatewayCpuMsPerRequest.toFixed(2)} ms/request vs engine ${c.engineCpuMsPerRequest.toFixed(2)} (${c.requests} requests)\n`,
      );
    }
  }
}
