// The supervisor of a persistent sandbox: a bash script that runs as pid 1 of the sandbox's pid
// namespace and runs one command per request read from its stdin. Commands run as the same uid,
// so the design keeps them from touching it:
// - as a pid namespace's init it ignores every signal sent from inside that it has no handler
//   for, SIGKILL included, so a command cannot kill it;
// - its binary is an execute-only copy of bash, which makes the process non-dumpable: commands
//   cannot read its memory, environment or pipes through /proc/1/;
// - what a command prints goes straight to our pipes, and the end of its output is a marker
//   holding a random nonce that only we and the supervisor know, so no command can end its own
//   output early (and keep running into the next command's) or forge another's result.
// Each command runs in a fresh `bash -c` with today's per-process limits; when it ends, everything
// else in the sandbox is killed (kill -9 -1 spares only pid 1), as with a fresh sandbox per command.
import { randomBytes } from 'node:crypto';
import type { ResolvedLimits } from './limits.ts';

/**
 * Closes every file descriptor above stderr, with builtins only: whatever Gauntlet's own parent
 * left open without close-on-exec passes through node and bwrap, and must not reach a command.
 */
export const CLOSE_INHERITED_FDS = 'for fd in /proc/self/fd/*; do fd=${fd##*/}; (( fd > 2 )) && eval "exec $fd>&-"; done';

/** Inside the sandbox: a small tmpfs for the supervisor's binary and stdin files. */
export const SUPERVISOR_DIR = '/run/gauntlet';
export const SUPERVISOR_BINARY = `${SUPERVISOR_DIR}/supervisor`;

const kib = (bytes: number) => Math.max(1, Math.floor(bytes / 1024));

/** The bash program, with this sandbox's per-process limits written in. */
export function supervisorScript(limits: ResolvedLimits): string {
  return `
LC_ALL=C
shopt -s nullglob
trap '' USR1
${CLOSE_INHERITED_FDS}
# Our own reports (bash tells of jobs killed by a signal) go nowhere; commands get the real stderr, fd 3.
exec 3>&2 2>/dev/null
while :; do
  IFS=' ' read -r -a h || exit 0
  nonce=\${h[0]} inname=\${h[1]} cwdlen=\${h[2]} cmdlen=\${h[3]} inlen=\${h[4]}
  read -r -N "$cwdlen" cwd || exit 0
  read -r -N "$cmdlen" cmd || exit 0
  envs=()
  for len in "\${h[@]:5}"; do read -r -N "$len" kv || exit 0; envs+=("$kv"); done
  input=/dev/null
  if (( inlen > 0 )); then
    # Commands run as our uid and may have locked or filled this folder, which would fail the
    # stdin file and with it the sandbox. None of theirs runs now: take the folder back first.
    left=(${SUPERVISOR_DIR}/* ${SUPERVISOR_DIR}/.[!.]* ${SUPERVISOR_DIR}/..?*)
    if [[ ! -r ${SUPERVISOR_DIR} || ! -w ${SUPERVISOR_DIR} || ! -x ${SUPERVISOR_DIR} || \${#left[@]} -ne 1 ]]; then
      # A few processes however much is there. Our binary stays as it is; chmod would follow a
      # link named on its command line (to the command's own files), so links are only removed.
      chmod 0755 ${SUPERVISOR_DIR}
      find ${SUPERVISOR_DIR} -mindepth 1 -maxdepth 1 ! -path ${SUPERVISOR_BINARY} ! -type l -exec chmod -R u+rwx -- {} +
      find ${SUPERVISOR_DIR} -mindepth 1 -maxdepth 1 ! -path ${SUPERVISOR_BINARY} -exec rm -rf -- {} +
    fi
    input=${SUPERVISOR_DIR}/stdin.$inname
    head -c "$inlen" > "$input" || exit 0
  fi
  trap 'kill -9 -1 2>/dev/null' USR1
  (
    exec 2>&3 3>&-
    unset LC_ALL
    ulimit -c 0 && ulimit -u ${limits.maxProcesses} && ulimit -v ${kib(limits.memoryBytes)} && ulimit -f ${kib(limits.diskBytes)} ||
      { echo 'sandbox: could not apply resource limits' >&2; exit 125; }
    cd -- "$cwd" 2>/dev/null || { printf 'sandbox: working directory %s does not exist\\n' "$cwd" >&2; exit 1; }
    unset OLDPWD
    for kv in "\${envs[@]}"; do export "$kv"; done
    exec /bin/bash -c "$cmd"
  ) < "$input" &
  pid=$!
  wait "$pid"; status=$?
  # A USR1 (stop the command) makes wait return early; wait again for the real status.
  while (( status > 128 )) && kill -0 "$pid" 2>/dev/null; do wait "$pid"; status=$?; done
  trap '' USR1
  clean=1 until=$((SECONDS + 5))
  while kill -9 -1 2>/dev/null; do
    (( SECONDS < until )) || { clean=0; break; }
  done
  [[ $input == /dev/null ]] || rm -f -- "$input"
  printf '\\0GAUNTLET:%s:%d:%d\\n' "$nonce" "$status" "$clean"
  printf '\\0GAUNTLET:%s\\n' "$nonce" >&3
done
`;
}

export interface SupervisorRequest {
  cwd: string;
  command: string;
  env: Record<string, string>;
  stdin: string;
}

/** Where a NUL would be cut: bash strings end there, as exec's arguments do. */
function assertNoNul(value: string, what: string): void {
  if (value.includes('\0')) throw new Error(`sandbox exec: ${what} contains a NUL byte`);
}

/**
 * One request frame: a header line (the nonce, the stdin file's name, lengths), then the fields
 * back to back (stdin last, any bytes). The stdin file's name is random too, and not the nonce: a
 * command can list the folder it is in, and must not be able to plant a link there beforehand.
 */
export function encodeRequest(nonce: string, request: SupervisorRequest): Buffer {
  assertNoNul(request.cwd, 'the working directory');
  assertNoNul(request.command, 'the command');
  const envs = Object.entries(request.env).map(([name, value]) => {
    assertNoNul(value, `environment variable ${name}`);
    return Buffer.from(`${name}=${value}`, 'utf8');
  });
  const cwd = Buffer.from(request.cwd, 'utf8');
  const command = Buffer.from(request.command, 'utf8');
  const stdin = Buffer.from(request.stdin, 'utf8');
  const header = [nonce, newNonce(), cwd.length, command.length, stdin.length, ...envs.map((e) => e.length)].join(' ');
  return Buffer.concat([Buffer.from(`${header}\n`), cwd, command, ...envs, stdin]);
}

export const newNonce = () => randomBytes(16).toString('hex');

/**
 * Reads one stream of a command's output up to its end marker, holding back the few bytes that
 * could be the start of a marker split across chunks.
 */
export class MarkedStream {
  private pending: Buffer = Buffer.alloc(0);
  private readonly marker: Buffer;
  /** Set once the marker has arrived: the rest of the marker line (for stdout, `status:clean`). */
  trailer: string | null = null;

  constructor(
    nonce: string,
    /** Receives the command's bytes, in order. */
    private readonly sink: (chunk: Buffer) => void,
  ) {
    this.marker = Buffer.from(`\0GAUNTLET:${nonce}`);
  }

  /** Feeds a chunk; returns what followed the marker line when this chunk completed it (normally nothing). */
  push(chunk: Buffer): Buffer | null {
    if (this.trailer !== null) return chunk;
    const buffer = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    const at = buffer.indexOf(this.marker);
    if (at === -1) {
      const keep = Math.min(buffer.length, this.marker.length - 1);
      if (buffer.length > keep) this.sink(buffer.subarray(0, buffer.length - keep));
      this.pending = Buffer.from(buffer.subarray(buffer.length - keep));
      return null;
    }
    const end = buffer.indexOf(0x0a, at);
    if (end === -1) {
      if (at > 0) this.sink(buffer.subarray(0, at));
      this.pending = Buffer.from(buffer.subarray(at));
      return null;
    }
    if (at > 0) this.sink(buffer.subarray(0, at));
    this.trailer = buffer.subarray(at + this.marker.length, end).toString('latin1').replace(/^:/, '');
    this.pending = Buffer.alloc(0);
    return buffer.subarray(end + 1);
  }

  /**
   * For a stream that ends without its marker (the sandbox died): hands on the bytes held back,
   * which the command did print, unless they are the start of the marker itself.
   */
  flush(): void {
    if (this.trailer !== null || this.pending.length === 0) return;
    const held = this.pending;
    this.pending = Buffer.alloc(0);
    // A whole marker held back began the line that never ended: ours, not the command's.
    if (held.indexOf(this.marker) === -1) this.sink(held);
  }
}
