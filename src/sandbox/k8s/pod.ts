// What a sandbox pod is: its manifest (limits as resources, the lease as an annotation) and the
// small shell scripts the k8s backend runs through the exec API for commands and files.
import { createHash } from 'node:crypto';
import type { V1Pod } from '@kubernetes/client-node';
import type { ResolvedLimits } from '../limits.ts';

export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const SANDBOX_LABEL = 'gauntlet.dev/sandbox';
/** Epoch milliseconds after which any Gauntlet process may delete the pod. */
export const LEASE_ANNOTATION = 'gauntlet.dev/lease-expires';
export const SANDBOX_SELECTOR = `${MANAGED_BY_LABEL}=gauntlet,${SANDBOX_LABEL}=true`;
export const CONTAINER = 'sandbox';
/** The group commands run as (nogroup); the work volume belongs to it. */
const RUN_AS_GROUP = 65534;
/**
 * Each pod runs as an unprivileged uid of its own, drawn from this range: the process limit
 * (RLIMIT_NPROC) counts a user's processes across the whole node, so pods sharing a uid (nobody)
 * would share one limit and one sandbox's processes could starve another's.
 */
export const SANDBOX_UIDS = { min: 100_000, max: 999_999_999 } as const;

/** How a POSIX sh in the image sets the process limit: bash and busybox say `-u`, dash `-p`. */
export type ProcessLimitFlag = '-u' | '-p';

/** Prints which `ulimit` flag limits processes in this sh (exit 1 when none does) after setting it to `max`. */
export function processLimitProbe(max: number): string {
  return `if (ulimit -u ${max}) 2>/dev/null; then echo -u; elif (ulimit -p ${max}) 2>/dev/null; then echo -p; else exit 1; fi`;
}

/** One shell word, quoted so the shell reads it back unchanged. */
export function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

export function podManifest(options: { name: string; image: string; workdir: string; limits: ResolvedLimits; uid: number; leaseExpiresAt: number; maxLifetimeSeconds: number }): V1Pod {
  const { limits } = options;
  const resources = {
    memory: String(limits.memoryBytes),
    cpu: `${Math.max(1, Math.round(limits.cpus * 1000))}m`,
    'ephemeral-storage': String(limits.diskBytes),
  };
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: options.name,
      labels: { [MANAGED_BY_LABEL]: 'gauntlet', [SANDBOX_LABEL]: 'true' },
      annotations: { [LEASE_ANNOTATION]: String(options.leaseExpiresAt) },
    },
    spec: {
      restartPolicy: 'Never',
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      // A backstop if every Gauntlet process that could reap the pod is gone for good.
      activeDeadlineSeconds: options.maxLifetimeSeconds,
      terminationGracePeriodSeconds: 0,
      securityContext: { runAsUser: options.uid, runAsGroup: RUN_AS_GROUP, runAsNonRoot: true, fsGroup: RUN_AS_GROUP },
      containers: [
        {
          name: CONTAINER,
          image: options.image,
          // Idles until deleted; commands arrive through exec. As the pid namespace's init it gets
          // no signal from a command that it does not handle, and it handles none: a command (same
          // uid) must not be able to end the pod, which would read as the sandbox failing. The
          // shell would still exit after a child it waits for dies of SIGINT, hence ignoring that.
          command: ['sh', '-c', `trap '' INT QUIT TERM HUP; exec >/dev/null 2>&1; while :; do sleep 3600; done`],
          workingDir: options.workdir,
          // Requests == limits for cpu and memory: Guaranteed QoS. The node's OOM killer and the
          // kubelet's memory-pressure evictions then take this pod last, which is what lets an
          // OOMKilled container be read as its own limit at work (memoryLimitKill).
          resources: { limits: resources, requests: resources },
          securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
          volumeMounts: [{ name: 'work', mountPath: options.workdir }],
        },
      ],
      volumes: [{ name: 'work', emptyDir: { sizeLimit: String(limits.diskBytes) } }],
    },
  };
}

/** Exit status `timeout -s KILL` gives a command it killed (128 + 9). */
export const KILLED_STATUS = 137;

/**
 * Kills every process of the pod's user but pid 1 (the keep-alive) and the shell running it:
 * `kill -1` reaches every process we may signal in the pod's pid namespace, and nothing outside
 * it. Builtins only, so a pod whose process limit a fork bomb used up is still cleaned. A killed
 * process may linger a moment, and zombies (which pid 1 reaps when its `sleep` is killed) count
 * for `kill -1`, so it goes on until /proc shows nothing else alive; returns 1 if that never comes.
 */
const REAP = [
  'reap() {',
  '  n=0',
  '  while kill -9 -1 2>/dev/null; do',
  '    left=',
  '    for d in /proc/[0-9]*; do',
  '      p=${d#/proc/}',
  '      { [ "$p" = 1 ] || [ "$p" = "$$" ]; } && continue',
  '      s=; read -r s 2>/dev/null < "$d/stat" || continue',
  '      case ${s##*) } in Z*|X*) ;; *) left=1; break;; esac',
  '    done',
  '    [ -z "$left" ] && return 0',
  '    n=$((n + 1)); [ "$n" -lt 2000 ] || return 1',
  '  done',
  '}',
].join('\n');

/** What the scripts print when the command's processes outlived every kill. */
export const UNKILLABLE_NOTE = 'sandbox: processes the command left behind could not all be killed';

/** Exits 0 once nothing but pid 1 and itself runs in the pod (for a command whose own clean-up may not have run). */
export function reapScript(): string {
  return `${REAP}\nreap || { echo ${shellQuote(UNKILLABLE_NOTE)} >&2; exit 1; }`;
}

/**
 * Runs `command` in `cwd` with `env`, at most `processes.max` processes of the pod's user at once,
 * killed after `seconds` by coreutils/busybox `timeout`; then kills whatever it left running
 * (`setsid … &`, daemons), as the bwrap sandbox does between commands, and exits with its status.
 * The script catches the signals it can so that only SIGKILL stops it early; the client cleans up
 * after a script that died so (see `reapScript`). Handlers, unlike ignored signals, are not
 * inherited: the command gets every signal's default.
 */
export function commandScript(options: { command: string; cwd: string; env: Record<string, string>; seconds: number; processes: { flag: ProcessLimitFlag; max: number } }): string {
  const env = Object.entries(options.env).map(([name, value]) => shellQuote(`${name}=${value}`));
  return [
    'trap : HUP INT QUIT TERM PIPE USR1 USR2 ALRM',
    REAP,
    `cd -- ${shellQuote(options.cwd)} 2>/dev/null || { echo ${shellQuote(`sandbox: working directory ${options.cwd} does not exist`)} >&2; exit 1; }`,
    // The probe at start proved the flag works in this image; nothing of the command has run yet.
    `ulimit ${options.processes.flag} ${options.processes.max}`,
    `env ${env.join(' ')} timeout -s KILL ${options.seconds} sh -c ${shellQuote(options.command)}`,
    'status=$?',
    `reap || echo ${shellQuote(UNKILLABLE_NOTE)} >&2`,
    'exit "$status"',
  ].join('\n');
}

/**
 * Resolves `rel` under the work dir and refuses (exit 3) a path that a symlink leads outside it;
 * then runs `body` with "$target" set.
 */
function inWorkdir(workdir: string, rel: string, body: string): string {
  return [
    `root=${shellQuote(workdir)}; target="$root"/${shellQuote(rel)}`,
    // realpath -m resolves what exists and keeps the rest, so a missing file still gets a verdict.
    'real=$(realpath -m -- "$target") || exit 4',
    'case "$real" in "$root"|"$root"/*) ;; *) echo "leads outside the work dir through a symlink" >&2; exit 3;; esac',
    // A folder on the way that the pod's own commands made unsearchable: say so (exit 5) rather
    // than report the file missing.
    'd=${real%/*}',
    'while [ "${#d}" -gt "${#root}" ]; do { [ -e "$d" ] && [ ! -x "$d" ]; } && { echo "${d#"$root"/}: permission denied" >&2; exit 5; }; d=${d%/*}; done',
    body,
  ].join('\n');
}

export function readScript(workdir: string, rel: string): string {
  return inWorkdir(workdir, rel, '[ -f "$real" ] || exit 2\n[ -r "$real" ] || { echo "permission denied" >&2; exit 5; }\nexec cat -- "$real"');
}

export function writeScript(workdir: string, rel: string): string {
  return inWorkdir(workdir, rel, '[ -d "$real" ] && { echo "is a directory" >&2; exit 3; }\n{ [ -e "$real" ] && [ ! -w "$real" ]; } && { echo "permission denied" >&2; exit 5; }\nmkdir -p -- "$(dirname -- "$real")" && exec cat > "$real"');
}

/**
 * Stands in for the hash of what the listing cannot read: a file, or a folder and all in it, that
 * the pod's own commands made unreadable (listed with size 0, so the change shows in a snapshot).
 */
export const UNREADABLE_SHA256 = createHash('sha256').update('gauntlet:unreadable').digest('hex');

/**
 * One record per regular file, each ended by a NUL (the one byte a file name cannot hold; a
 * command can put newlines in names): size, sha256, path relative to the work dir. A file or
 * folder the pod's user cannot read gets one record with UNREADABLE_SHA256.
 */
export function listScript(workdir: string): string {
  const unreadable = `printf '0 %s %s\\0' ${UNREADABLE_SHA256} "\${f#./}"`;
  const record = `for f do if [ -r "$f" ]; then printf '%s %s %s\\0' "$(wc -c < "$f" | tr -d ' ')" "$(sha256sum < "$f" | cut -d' ' -f1)" "\${f#./}"; else ${unreadable}; fi; done`;
  const folder = `for f do ${unreadable}; done`;
  return `cd -- ${shellQuote(workdir)} && find . \\( -type d ! -perm -0500 -prune -exec sh -c ${shellQuote(folder)} sh {} + \\) -o \\( -type f -exec sh -c ${shellQuote(record)} sh {} + \\)`;
}
