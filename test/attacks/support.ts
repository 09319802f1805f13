// Shared by the sandbox attack suite: a bwrap sandbox with small limits per attack, host canaries
// (files and secrets the sandbox must never see), and checks that every attempt ended in bounded
// time and left nothing running on the host.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import type { ExecResult, Sandbox } from '../../src/core/index.ts';
import { createSandbox, sandboxAvailability, type SandboxLimits } from '../../src/sandbox/index.ts';
import { descendants } from '../chaos/ledger.ts';

export const LIMITS = {
  timeoutMs: 3000,
  maxOutputBytes: 64 * 1024,
  memoryBytes: 256 * 1024 ** 2,
  maxProcesses: 64,
  diskBytes: 8 * 1024 ** 2,
  cpus: 1,
} satisfies SandboxLimits;

/** Slack over a deadline for the kill, the supervisor's report and a loaded 2-core machine. */
const KILL_SLACK_MS = 4000;

const { bwrap } = await sandboxAvailability();

/** A fresh random token: canary contents and markers that cannot appear by chance. */
export const token = (): string => `gauntlet-attack-${randomBytes(8).toString('hex')}`;

/** A host file outside every sandbox, holding a random secret. */
export function hostCanary(): { dir: string; path: string; secret: string } {
  const dir = mkdtempSync(join(tmpdir(), 'gauntlet-canary-'));
  const secret = token();
  const path = join(dir, 'canary.txt');
  writeFileSync(path, `${secret}\n`);
  return { dir, path, secret };
}

/**
 * Runs `attack` against a new bwrap sandbox (persistent mode, small limits), closes it, and checks
 * that no process the sandbox started outlives it. Skips, naming why, only where bwrap cannot run.
 */
export async function inSandbox(t: TestContext, attack: (sb: Sandbox) => Promise<void>, limits: SandboxLimits = {}): Promise<void> {
  if (!bwrap.available) return t.skip(`bwrap unavailable here: ${bwrap.reason}`);
  const before = new Set(descendants());
  const sb = await createSandbox({ backend: 'bwrap', limits: { ...LIMITS, ...limits } });
  try {
    await attack(sb);
  } finally {
    await sb.close();
  }
  const give = Date.now() + 5000;
  let left = descendants().filter((pid) => !before.has(pid));
  while (left.length > 0 && Date.now() < give) {
    await new Promise((r) => setTimeout(r, 20));
    left = descendants().filter((pid) => !before.has(pid));
  }
  assert.deepEqual(left, [], 'no process of the sandbox outlives it');
}

/** Runs `command`, asserting it ended within its deadline (plus kill slack) and within the output cap. */
export async function run(sb: Sandbox, command: string, options: { timeoutMs?: number; env?: Record<string, string>; stdin?: string } = {}): Promise<ExecResult> {
  const timeoutMs = options.timeoutMs ?? LIMITS.timeoutMs;
  const started = Date.now();
  const result = await sb.exec(command, { timeoutMs, ...(options.env ? { env: options.env } : {}), ...(options.stdin !== undefined ? { stdin: options.stdin } : {}) });
  const took = Date.now() - started;
  assert.ok(took <= timeoutMs + KILL_SLACK_MS, `"${command.slice(0, 80)}" took ${took} ms, past its ${timeoutMs} ms deadline`);
  assert.ok(Buffer.byteLength(result.stdout) + Buffer.byteLength(result.stderr) <= LIMITS.maxOutputBytes + 4096, 'output stays within the cap');
  return result;
}

/** The sandbox still runs commands normally after an attack. */
export async function stillWorks(sb: Sandbox): Promise<void> {
  const ok = await run(sb, 'echo alive');
  assert.equal(ok.stdout, 'alive\n', ok.stderr);
}
