import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InfraError, type ExecResult, type Sandbox } from '../core/index.ts';
import type { VerifyContext } from './define.ts';
import { terminalChecks } from './terminal/checks.ts';

/** A sandbox whose every command reports that the sandbox itself died. */
function dyingSandbox(): Sandbox {
  const died: ExecResult = { exitCode: 137, stdout: '', stderr: 'sandbox: the sandbox died\n', timedOut: false, truncated: false, durationMs: 1, sandboxFailure: 'the sandbox died during the command' };
  return { exec: async () => died } as unknown as Sandbox;
}

describe('a sandbox that dies during verification', () => {
  it('is an infrastructure failure, never a failed check (so never a score)', async () => {
    const check = terminalChecks.command_output_equals!;
    const params = check.params.parse({ command: 'test -f out.txt' });
    const ctx = { sandbox: dyingSandbox(), signal: new AbortController().signal } as unknown as VerifyContext;
    await assert.rejects(Promise.resolve(check.run(params, ctx)), (e: unknown) => e instanceof InfraError && e.source === 'sandbox' && e.retryable);
  });
});
