// Placeholder public face; the virtual and bwrap backends land here.
import type { Sandbox } from '../core/index.ts';

export type SandboxBackend = 'auto' | 'virtual' | 'bwrap';

export interface SandboxLimits {
  /** Longest a single command may run. */
  timeoutMs?: number;
  /** Bytes of stdout+stderr kept per command. */
  maxOutputBytes?: number;
}

export interface CreateSandboxOptions {
  backend: SandboxBackend;
  /** Files to place in the work dir before the episode starts (path relative to the work dir). */
  files?: Record<string, string>;
  limits?: SandboxLimits;
}

export async function createSandbox(_options: CreateSandboxOptions): Promise<Sandbox> {
  throw new Error('sandbox backends are not implemented yet');
}
