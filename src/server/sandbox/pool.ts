// The sandboxes a sandbox server holds, each on a lease: every request for it (and every heartbeat)
// renews the lease, and a sweep closes those whose client went quiet for longer than the TTL.
import { randomBytes } from 'node:crypto';
import type { Sandbox } from '../../core/index.ts';

export interface PoolOptions {
  ttlMs: number;
  maxSandboxes: number;
  /** The server's clock (epoch ms); tests move it instead of waiting. */
  now: () => number;
  log?: (line: string) => void;
}

export interface Lease {
  ttlMs: number;
  expiresAt: number;
}

interface Held {
  sandbox: Sandbox;
  expiresAt: number;
  /** Commands running in it now: while one runs the lease does not run out (the command's own timeout bounds it). */
  running: number;
}

export interface PoolStats {
  sandboxes: number;
  maxSandboxes: number;
  /** Sandboxes created, closed by their client, and reaped after their lease ran out, since the start. */
  created: number;
  closed: number;
  reaped: number;
  heartbeats: number;
  /** Commands running now. */
  running: number;
}

/** Refused because the server holds as many sandboxes as it may. */
export class PoolFullError extends Error {
  constructor(max: number) {
    super(`the server already holds its maximum of ${max} sandboxes`);
    this.name = 'PoolFullError';
  }
}

export class SandboxPool {
  private readonly held = new Map<string, Held>();
  /** Creations under way, counted against the maximum before they finish; closeAll waits for them. */
  private readonly pending = new Set<Promise<unknown>>();
  private running = 0;
  /** Set by closeAll: a creation that finishes after it closes what it made instead of holding it. */
  private stopped = false;
  private readonly counts = { created: 0, closed: 0, reaped: 0, heartbeats: 0 };

  constructor(private readonly options: PoolOptions) {}

  private lease(held: Held): Lease {
    return { ttlMs: this.options.ttlMs, expiresAt: held.expiresAt };
  }

  async open(create: () => Promise<Sandbox>): Promise<{ id: string; sandbox: Sandbox; lease: Lease }> {
    if (this.stopped) throw new Error('the sandbox server is stopping');
    if (this.held.size + this.pending.size >= this.options.maxSandboxes) throw new PoolFullError(this.options.maxSandboxes);
    const opening = this.hold(create);
    this.pending.add(opening);
    try {
      return await opening;
    } finally {
      this.pending.delete(opening);
    }
  }

  private async hold(create: () => Promise<Sandbox>): Promise<{ id: string; sandbox: Sandbox; lease: Lease }> {
    const sandbox = await create();
    if (this.stopped) {
      await sandbox.close().catch((error: unknown) => this.options.log?.(`closing a sandbox created while the server stopped failed: ${String(error)}`));
      throw new Error('the sandbox server is stopping');
    }
    const id = `sbx_${randomBytes(12).toString('base64url')}`;
    const held: Held = { sandbox, expiresAt: this.options.now() + this.options.ttlMs, running: 0 };
    this.held.set(id, held);
    this.counts.created++;
    return { id, sandbox, lease: this.lease(held) };
  }

  /** The sandbox, its lease renewed; undefined when there is none by that id (never was, closed or reaped). */
  use(id: string): Sandbox | undefined {
    const held = this.held.get(id);
    if (!held) return undefined;
    held.expiresAt = this.options.now() + this.options.ttlMs;
    return held.sandbox;
  }

  heartbeat(id: string): Lease | undefined {
    if (!this.use(id)) return undefined;
    this.counts.heartbeats++;
    const held = this.held.get(id);
    return held ? this.lease(held) : undefined;
  }

  /** Counts a command as running in sandbox `id` while `work` is pending; the lease is renewed when it ends. */
  async track<T>(id: string, work: Promise<T>): Promise<T> {
    const held = this.held.get(id);
    this.running++;
    if (held) held.running++;
    try {
      return await work;
    } finally {
      this.running--;
      if (held) {
        held.running--;
        held.expiresAt = this.options.now() + this.options.ttlMs;
      }
    }
  }

  /** Closes one sandbox at its client's request; false when there was none. */
  async close(id: string): Promise<boolean> {
    const held = this.held.get(id);
    if (!held) return false;
    this.held.delete(id);
    this.counts.closed++;
    await held.sandbox.close();
    return true;
  }

  /** Closes every sandbox whose lease has run out and that runs no command; returns their ids. */
  async reap(): Promise<string[]> {
    const now = this.options.now();
    const expired = [...this.held].filter(([, held]) => held.expiresAt <= now && held.running === 0);
    for (const [id] of expired) this.held.delete(id);
    this.counts.reaped += expired.length;
    await Promise.all(
      expired.map(async ([id, held]) => {
        this.options.log?.(`reaping ${id}: no request or heartbeat for ${this.options.ttlMs} ms`);
        await held.sandbox.close().catch((error: unknown) => this.options.log?.(`closing reaped ${id} failed: ${String(error)}`));
      }),
    );
    return expired.map(([id]) => id);
  }

  /** Closes every sandbox, and those still being created once they are. */
  async closeAll(): Promise<void> {
    this.stopped = true;
    const all = [...this.held.values()];
    this.held.clear();
    await Promise.all([...all.map((held) => held.sandbox.close().catch(() => undefined)), ...[...this.pending].map((opening) => opening.catch(() => undefined))]);
  }

  stats(): PoolStats {
    return { sandboxes: this.held.size, maxSandboxes: this.options.maxSandboxes, ...this.counts, running: this.running };
  }
}
