// A command tool's one rule about sandbox deaths: when the sandbox itself failed, the exit code and
// output describe the failure, not the model's command, so the rollout must end as an
// infrastructure error (and be retried) rather than hand them to the model and be scored.
import { InfraError, type ExecResult } from '../core/index.ts';

/** Returns `result` when the sandbox ran the command; throws a retryable sandbox InfraError when it did not. */
export function ranInSandbox(result: ExecResult, tool: string): ExecResult {
  if (result.sandboxFailure === undefined) return result;
  throw new InfraError('sandbox', `${tool}: ${result.sandboxFailure}`, {
    retryable: true,
    kind: 'crash',
    detail: { exitCode: result.exitCode, stderr: result.stderr.slice(-500) },
  });
}
