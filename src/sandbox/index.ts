// Running untrusted commands: `bwrap` (bubblewrap namespaces) where it works, else the in-process
// `virtual` shell. Commands never run unsandboxed: asking for bwrap where it cannot work fails.
// `remote` runs them in such a sandbox on a `gauntlet sandbox-server` elsewhere, `k8s` in a pod.
import { InputError, type Sandbox } from '../core/index.ts';
import { createBwrapSandbox, type BwrapMode } from './bwrap.ts';
import { resolveLimits, type SandboxLimits } from './limits.ts';
import { resolveWorkdir } from './paths.ts';
import { sandboxAvailability } from './probe.ts';
import { createVirtualSandbox } from './virtual.ts';
import { createRemoteSandbox, remoteServerFromEnv } from './remote/index.ts';
import { createK8sSandbox, k8sTargetFromEnv, type K8sTarget } from './k8s/index.ts';

/**
 * Where commands run: `auto` picks bwrap where it works, else virtual; `remote` is a `gauntlet
 * sandbox-server` (GAUNTLET_SANDBOX_URL); `k8s` a pod per sandbox (GAUNTLET_K8S_IMAGE, kubeconfig).
 */
export const SANDBOX_BACKENDS = ['auto', 'virtual', 'bwrap', 'remote', 'k8s'] as const;
export type SandboxBackend = (typeof SANDBOX_BACKENDS)[number];
/** What `createSandbox` builds: a local backend, `remote` (a `gauntlet sandbox-server` elsewhere) or `k8s` (docs/design/remote-sandbox.md). */
export type SandboxChoice = SandboxBackend;
export type { BwrapMode } from './bwrap.ts';
export type { SandboxLimits } from './limits.ts';
export { DEFAULT_LIMITS, LIMIT_RANGES } from './limits.ts';
export { FileTooLargeError } from './files.ts';
export { DEFAULT_WORKDIR, SandboxFullError, SandboxPathError, relativeToWorkdir, resolveWorkdir } from './paths.ts';
export { resourceControl, type ResourceControl } from './cgroup.ts';
export { sandboxAvailability, type BwrapSupport, type SandboxAvailability } from './probe.ts';
export { checkK8sSandboxes, checkNamespace, createK8sSandbox, K8S_IMAGE_VARIABLE, K8S_NAMESPACE_VARIABLE, k8sTargetFromEnv, probeK8sSandboxes, reapK8sSandboxes, type K8sSandbox, type K8sSandboxOptions, type K8sTarget } from './k8s/index.ts';
export { createRemoteSandbox, probeRemoteSandbox, remoteServerFromEnv, REMOTE_TOKEN_VARIABLE, REMOTE_URL_VARIABLE, type RemoteSandboxOptions } from './remote/index.ts';
export { spawnContained, type ContainedProgram, type ContainedProgramOptions } from './contained-process.ts';

export interface CreateSandboxOptions {
  backend: SandboxChoice;
  /** Files to place in the work dir before the episode starts (path relative to the work dir). */
  files?: Record<string, string>;
  limits?: SandboxLimits;
  /**
   * Where the work dir is inside the sandbox (and `Sandbox.workdir`): an absolute path outside the
   * system directories, such as `/app` for Terminal-Bench tasks. Default `/work`.
   */
  workdir?: string;
  /**
   * bwrap only: `persistent` (default) keeps one sandbox per episode and runs each command in it,
   * in milliseconds; `fresh` builds new namespaces for every command, as before.
   */
  mode?: BwrapMode;
  /** remote only: the server; default from GAUNTLET_SANDBOX_URL and GAUNTLET_SANDBOX_TOKEN. */
  remote?: { url: string; token?: string };
  /** k8s only: image, namespace and cluster; default from GAUNTLET_K8S_IMAGE, GAUNTLET_K8S_NAMESPACE and the usual kubeconfig. */
  k8s?: K8sTarget;
  /**
   * The container image the task asks for (an imported task's base image). Backends that run
   * images (k8s) run it in place of their default; the others run on their machine's system.
   */
  image?: string;
  /** `image` is the task's whole system: backends that run no images refuse the task. */
  imageOnly?: boolean;
}

/** Whether commands run as real processes (a shell, interpreters, the image's tools), not in the in-process `virtual` shell. */
export function isProcessSandbox(sandbox: Sandbox | undefined): sandbox is Sandbox {
  return sandbox !== undefined && sandbox.backend !== 'virtual';
}

let noticeShown = false;

/** A sandbox of the requested backend; `auto` picks bwrap when it works on this machine. */
export async function createSandbox(options: CreateSandboxOptions): Promise<Sandbox> {
  const limits = resolveLimits(options.limits);
  const workdir = resolveWorkdir(options.workdir);
  const files = options.files ?? {};
  if (options.mode !== undefined && options.mode !== 'persistent' && options.mode !== 'fresh') {
    throw new InputError('mode', `"${String(options.mode)}" is not a bwrap sandbox mode`, '"persistent" or "fresh"');
  }
  if (options.imageOnly && options.backend !== 'k8s') {
    throw new InputError('sandbox', `the task runs only in its image ${options.image ?? '(none named)'}, and the ${options.backend} sandbox runs commands on its machine's system`, 'a sandbox that runs images: --sandbox k8s');
  }
  if (options.backend === 'virtual') return createVirtualSandbox({ files, limits, workdir });
  if (options.backend === 'remote') {
    const server = options.remote ?? remoteServerFromEnv(process.env);
    return createRemoteSandbox({ ...server, files, limits: options.limits ?? {}, workdir });
  }
  if (options.backend === 'k8s') {
    const target = options.k8s ?? k8sTargetFromEnv(process.env, options.image);
    return createK8sSandbox({ ...target, ...(options.image !== undefined ? { image: options.image } : {}), files, limits: options.limits ?? {}, workdir });
  }
  const { bwrap } = await sandboxAvailability();
  if (bwrap.available && bwrap.path) {
    return createBwrapSandbox({ support: { ...bwrap, path: bwrap.path }, files, limits, workdir, mode: options.mode ?? 'persistent' });
  }
  if (options.backend === 'bwrap') {
    throw new Error(`sandbox backend "bwrap" is not available: ${bwrap.reason ?? 'unknown reason'}; use backend "virtual" or "auto"`);
  }
  if (!noticeShown) {
    noticeShown = true;
    process.stderr.write(`gauntlet: bubblewrap not found; using the in-process virtual sandbox (${bwrap.reason ?? 'bwrap unavailable'})\n`);
  }
  return createVirtualSandbox({ files, limits, workdir });
}
