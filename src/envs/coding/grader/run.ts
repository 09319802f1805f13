// Running hidden suites against the repo the agent left: the probe plan (probe source, imports,
// input data; no expected values) goes into the sandbox on stdin, one marked line per outcome comes
// back, and every outcome is judged here, outside the sandbox. Nothing is written to the work dir.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { InfraError, type Sandbox } from '../../../core/index.ts';
import { ranInSandbox } from '../../sandbox-failure.ts';
import { judgeCase, ProbeOutcome } from './judge.ts';
import type { ProbeSuite } from './suite.ts';

export interface ProbeRunOptions {
  /** Loaded suites (`loadSuite(ref)`), run in order. */
  suites: readonly ProbeSuite[];
  signal?: AbortSignal;
  /** The whole run, in the sandbox. */
  timeoutMs?: number;
  /** Each probe; one that runs longer is stopped and fails. */
  probeTimeoutMs?: number;
}

export interface ProbeRunResult {
  passed: boolean;
  total: number;
  /** `name (why)` for every case that did not pass, a missing result included. */
  failures: string[];
  /** Marked lines that could not be read or repeated a probe: someone else wrote them. */
  tampering: string[];
  exitCode: number;
  timedOut: boolean;
  /** The end of the run's other output, for people reading a failed check. */
  outputTail: string;
}

/** The worker's V8 heap: a probe that allocates without end fails alone instead of taking the run down. */
const WORKER_HEAP_MB = 512;

let programs: { supervisor: string; worker: string } | undefined;
function sandboxPrograms(): { supervisor: string; worker: string } {
  programs ??= {
    supervisor: readFileSync(new URL('./sandbox/supervisor.mjs', import.meta.url), 'utf8'),
    worker: readFileSync(new URL('./sandbox/worker.mjs', import.meta.url), 'utf8'),
  };
  return programs;
}

const ReportLine = z.union([
  z.strictObject({ started: z.literal(true), probes: z.number() }),
  z.strictObject({ index: z.number().int().nonnegative(), outcome: ProbeOutcome }),
  // An error that escaped the code under test while this probe ran or had just run.
  z.strictObject({ index: z.number().int(), stray: z.strictObject({ name: z.string(), message: z.string() }) }),
]);

function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

interface PlannedCase {
  suite: ProbeSuite;
  caseIndex: number;
}

/** Runs every case of the suites in the sandbox and judges each outcome here. */
export async function runProbes(sandbox: Sandbox, options: ProbeRunOptions): Promise<ProbeRunResult> {
  const suites = options.suites;
  const planned: PlannedCase[] = suites.flatMap((suite) => suite.cases.map((_, caseIndex) => ({ suite, caseIndex })));
  const marker = `@@gauntlet-probe:${randomUUID()}`;
  const { supervisor, worker } = sandboxPrograms();
  const plan = {
    marker,
    workdir: sandbox.workdir,
    workerSource: worker,
    heapMb: WORKER_HEAP_MB,
    probeTimeoutMs: options.probeTimeoutMs ?? 10_000,
    suites: suites.map((s) => ({ imports: s.imports, data: s.dataJson, setup: s.setupSource })),
    probes: planned.map((p, index) => ({ index, suite: suites.indexOf(p.suite), run: p.suite.cases[p.caseIndex]?.runSource })),
  };
  // Started outside the work dir, so nothing the agent did to /work can keep the runner from
  // starting: a runner that never starts is the sandbox's failure, never a score.
  const result = ranInSandbox(
    await sandbox.exec(`node --input-type=module -e ${shellQuote(supervisor)}`, {
      timeoutMs: options.timeoutMs ?? 60_000,
      stdin: JSON.stringify(plan),
      cwd: '/tmp',
      ...(options.signal ? { signal: options.signal } : {}),
    }),
    'hidden tests',
  );

  let started = false;
  const outcomes = new Map<number, ProbeOutcome>();
  const repeated = new Set<number>();
  const strays = new Map<number, string>();
  const tampering: string[] = [];
  const other: string[] = [];
  for (const line of result.stdout.split('\n')) {
    if (!line.startsWith(`${marker} `)) {
      if (line.trim() !== '') other.push(line);
      continue;
    }
    const parsed = ReportLine.safeParse(safeJson(line.slice(marker.length + 1)));
    if (!parsed.success) tampering.push(`unreadable report line ${JSON.stringify(line.slice(marker.length + 1, marker.length + 61))}`);
    else if ('started' in parsed.data) started = true;
    else if (parsed.data.index >= planned.length || parsed.data.index < 0) tampering.push(`a report for probe ${parsed.data.index}, which was never sent`);
    else if ('stray' in parsed.data) strays.set(parsed.data.index, strays.get(parsed.data.index) ?? `${parsed.data.stray.name}: ${parsed.data.stray.message.slice(0, 160)}`);
    else if (outcomes.has(parsed.data.index)) repeated.add(parsed.data.index);
    else outcomes.set(parsed.data.index, parsed.data.outcome);
  }
  const outputTail = [...other, result.stderr].join('\n').trim().slice(-600);
  if (!started) {
    throw new InfraError('sandbox', `the hidden-test runner did not start in the sandbox (exit ${result.exitCode}${result.timedOut ? ', timed out' : ''}): ${outputTail.slice(-300) || 'no output'}`, {
      retryable: result.timedOut,
    });
  }

  const stopped = result.timedOut ? `the run hit its ${(options.timeoutMs ?? 60_000) / 1000}s limit` : result.truncated ? 'the output limit was hit' : `the runner stopped (exit ${result.exitCode})`;
  const failures: string[] = [];
  planned.forEach(({ suite, caseIndex }, index) => {
    const probe = suite.cases[caseIndex];
    if (!probe) return;
    const outcome = outcomes.get(index);
    const stray = strays.get(index);
    const why = repeated.has(index)
      ? 'reported more than once'
      : outcome === undefined
        ? `no result: ${stopped}`
        : (judgeCase(probe, outcome) ?? (stray === undefined ? null : `an error escaped it: ${stray}`));
    if (why !== null) failures.push(`${probe.name} (${why})`);
  });
  return {
    passed: planned.length > 0 && failures.length === 0 && tampering.length === 0,
    total: planned.length,
    failures,
    tampering,
    exitCode: result.exitCode,
    timedOut: result.timedOut,
    outputTail,
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** One line for a check's detail: which cases failed and why, or that all passed. */
export function describeRun(run: ProbeRunResult): string {
  if (run.passed) return `all ${run.total} hidden tests pass`;
  const parts: string[] = [];
  if (run.failures.length > 0) parts.push(`failing: ${run.failures.slice(0, 8).join('; ')}${run.failures.length > 8 ? ` (+${run.failures.length - 8} more)` : ''}`);
  if (run.tampering.length > 0) parts.push(`tampered output: ${run.tampering.slice(0, 3).join('; ')}`);
  if (parts.length === 0) parts.push('no hidden tests ran');
  return parts.join(' | ');
}
