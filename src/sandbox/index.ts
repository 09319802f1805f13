// Running untrusted commands: `bwrap` (bubblewrap namespaces) where it works, else the in-process
// `virtual` shell. Commands never run unsandboxed: asking for bwrap where it cannot work fails.
import type { Sandbox } from '../core/index.ts';
import { createBwrapSandbox } from './bwrap.ts';
import { resolveLimits, type SandboxLimits } from './limits.ts';
import { sandboxAvailability } from './probe.ts';
import { createVirtualSandbox } from './virtual.ts';

export type SandboxBackend = 'auto' | 'virtual' | 'bwrap';
export type { SandboxLimits } from './limits.ts';
export { DEFAULT_LIMITS } from './limits.ts';
export { SandboxPathError, relativeToWorkdir } from './paths.ts';
export { sandboxAvailability, type BwrapSupport, type SandboxAvailability } from './probe.ts';
export { spawnContained, type ContainedProgram, type ContainedProgramOptions } from './contained-process.ts';

export interface CreateSandboxOptions {
  backend: SandboxBackend;
  /** Files to place in the work dir before the episode starts (path relative to the work dir). */
  files?: Record<string, string>;
  limits?: SandboxLimits;
}

let noticeShown = false;

/** A sandbox of the requested backend; `auto` picks bwrap when it works on this machine. */
export async function createSandbox(options: CreateSandboxOptions): Promise<Sandbox> {
  const limits = resolveLimits(options.limits);
  const files = options.files ?? {};
  if (options.backend === 'virtual') return createVirtualSandbox(files, limits);
  const { bwrap } = await sandboxAvailability();
  if (bwrap.available && bwrap.path) return createBwrapSandbox({ ...bwrap, path: bwrap.path }, files, limits);
  if (options.backend === 'bwrap') {
    throw new Error(`sandbox backend "bwrap" is not available: ${bwrap.reason ?? 'unknown reason'}; use backend "virtual" or "auto"`);
  }
  if (!noticeShown) {
    noticeShown = true;
    process.stderr.write(`gauntlet: bubblewrap not found; using the in-process virtual sandbox (${bwrap.reason ?? 'bwrap unavailable'})\n`);
  }
  return createVirtualSandbox(files, limits);
}
