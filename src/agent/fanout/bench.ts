// Fan-out overhead: N one-call agents against the loopback mock model with a fixed latency,
// compared with the ideal (every agent in parallel: one latency per wave of `concurrency`).
import { createModelClient, startMockModelServer } from '../../model/index.ts';
import { fanOut } from './fanout.ts';

export interface FanoutBenchResult {
  agents: number;
  concurrency: number;
  latencyMs: number;
  wallMs: number;
  idealMs: number;
  /** wallMs / idealMs: 1 is perfect. */
  wallVsIdeal: number;
  /** The same calls made straight through the client (Promise.all, no fan-out): the HTTP stack's own share. */
  directMs: number;
  /** Heap growth while the agents were in flight, per agent (bytes). */
  heapPerAgentBytes: number;
  ok: number;
}

export async function benchFanout(options: { agents?: number; concurrency?: number; latencyMs?: number } = {}): Promise<FanoutBenchResult> {
  const agents = options.agents ?? 200;
  const concurrency = options.concurrency ?? agents;
  const latencyMs = options.latencyMs ?? 50;
  const server = await startMockModelServer({ script: { model: 'bench', turns: [{ content: 'Subject: none' }] } });
  // The latency sits in front of the loopback server, as a slow endpoint's would.
  const slowFetch: typeof fetch = async (input, init) => {
    await new Promise((resolve) => setTimeout(resolve, latencyMs));
    return fetch(input, init);
  };
  try {
    const model = await createModelClient(`openai:${server.url}#bench`, { fetch: slowFetch, stream: false, maxRetries: 0 });
    const items = Array.from({ length: agents }, (_, i) => `item ${i}`);
    const request = (item: string) => ({ messages: [{ role: 'user' as const, content: `Classify: ${item}` }], tools: [], sampling: {} });
    // Warm the connection pool and the JIT, then time the client alone, so the figure below is the fan-out's.
    await Promise.all(items.slice(0, Math.min(20, agents)).map((item) => model.complete(request(item), { signal: AbortSignal.timeout(60_000) })));
    const directStarted = performance.now();
    await Promise.all(items.slice(0, concurrency).map((item) => model.complete(request(item), { signal: AbortSignal.timeout(60_000) })));
    const directMs = (performance.now() - directStarted) * Math.ceil(agents / concurrency);
    let peakHeap = process.memoryUsage().heapUsed;
    const baseHeap = peakHeap;
    const started = performance.now();
    const result = await fanOut({
      items,
      model,
      concurrency,
      agent: async ({ item, complete }) => {
        const response = await complete(request(item));
        peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
        return response.message.content;
      },
    });
    const wallMs = performance.now() - started;
    const idealMs = Math.ceil(agents / concurrency) * latencyMs;
    return {
      agents,
      concurrency,
      latencyMs,
      wallMs: Math.round(wallMs),
      idealMs,
      wallVsIdeal: Number((wallMs / idealMs).toFixed(2)),
      directMs: Math.round(directMs),
      heapPerAgentBytes: Math.max(0, Math.round((peakHeap - baseHeap) / agents)),
      ok: result.values.length,
    };
  } finally {
    await server.close();
  }
}
