import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Command } from 'commander';
import { InputError } from '../../core/index.ts';
import type { CliIo } from '../io.ts';
import { registerAgentsCommand } from './agents.ts';

function cli(env: Record<string, string>) {
  const io: CliIo & { out: string } = { out: '', interactive: false, env, stdout: (t) => void (io.out += t), stderr: () => {} };
  const program = new Command().exitOverride();
  registerAgentsCommand(program, io);
  return { io, run: (args: string[]) => program.parseAsync(['node', 'gauntlet', ...args]) };
}

describe('gauntlet agents', () => {
  it('lists every agent with its pinned version and whether the cache holds it', async () => {
    const cache = mkdtempSync(join(tmpdir(), 'gauntlet-agents-cli-'));
    mkdirSync(join(cache, 'agents', '@openai+codex@0.171.0'), { recursive: true });
    writeFileSync(join(cache, 'agents', '@openai+codex@0.171.0', 'x'), '');
    const { io, run } = cli({ GAUNTLET_CACHE: cache });
    await run(['agents', 'list', '--json']);
    const list = JSON.parse(io.out) as { name: string; version: string; installed: boolean; wireApi: string }[];
    assert.deepEqual(list.map((a) => a.name), ['pi', 'codex', 'qwen-code', 'opencode']);
    assert.deepEqual(list.find((a) => a.name === 'codex'), { ...list.find((a) => a.name === 'codex'), version: '0.171.0', installed: true, wireApi: 'responses' });
    assert.equal(list.find((a) => a.name === 'pi')?.installed, false);
  });

  it('refuses to install an agent it does not know, naming the ones it does', async () => {
    const { run } = cli({ GAUNTLET_CACHE: mkdtempSync(join(tmpdir(), 'gauntlet-agents-cli-')) });
    await assert.rejects(run(['agents', 'install', 'aider']), (error: unknown) => error instanceof InputError && /pi, codex, qwen-code, opencode/.test(error.message));
  });
});
