// Live sessions: one episode each, a capacity shared by every way of opening one (WS /ws, WS /mcp,
// openenv/session/create), work run one message at a time, and an end that always closes the
// environment: on request, on disconnect, after an idle timeout, or when the server stops.
import { randomUUID } from 'node:crypto';
import { errorMessage, MAX_TIMER_MS } from '../../core/index.ts';
import type { OpenEnvEpisode } from './episode.ts';

/**
 * `ws`: a `/ws` connection. `mcp-ws`: a WS `/mcp` connection. `mcp-http`: made by
 * openenv/session/create. `throwaway`: one stateless HTTP request's episode (`/reset`, `/step`, MCP
 * without a session), which holds an environment (and sandbox) like any session while it runs.
 */
export type SessionKind = 'ws' | 'mcp-ws' | 'mcp-http' | 'throwaway';

export type EndReason = 'closed by client' | 'disconnected' | 'idle timeout' | 'server shutting down';

export interface Session {
  readonly id: string;
  readonly kind: SessionKind;
  readonly episode: OpenEnvEpisode;
  /** Aborted when the session ends: in-flight tool calls stop. */
  readonly signal: AbortSignal;
  /** Told when the registry ends the session itself (idle, shutdown), so the transport can say so. */
  onEnd?: (reason: EndReason) => void;
}

export type Refusal =
  | { ok: false; code: 'CAPACITY_REACHED'; message: string; activeSessions: number; maxSessions: number }
  | { ok: false; code: 'FACTORY_ERROR'; message: string; factoryName: string }
  | { ok: false; code: 'SHUTTING_DOWN'; message: string };

export type OpenResult = { ok: true; session: Session } | Refusal;

type CapacityRefusal = Extract<Refusal, { code: 'CAPACITY_REACHED' }>;
type ShuttingDown = Extract<Refusal, { code: 'SHUTTING_DOWN' }>;

const SHUTTING_DOWN: ShuttingDown = { ok: false, code: 'SHUTTING_DOWN', message: 'server shutting down: it opens no new sessions' };

/**
 * A place held before its session exists: a stateless request takes one before reading its body,
 * so a full server refuses without reading it, and hands it to `open` (or `release`s it) after.
 */
export class Slot {
  #held = true;
  readonly #onRelease: () => void;

  constructor(onRelease: () => void) {
    this.#onRelease = onRelease;
  }

  /** Gives the place back; true when it was still held (later calls do nothing). */
  release(): boolean {
    if (!this.#held) return false;
    this.#held = false;
    this.#onRelease();
    return true;
  }
}

export class SessionEndedError extends Error {
  constructor(id: string) {
    super(`session ${id} has ended`);
    this.name = 'SessionEndedError';
  }
}

export interface SessionRegistryOptions {
  maxSessions: number;
  /** End a session after this long without a message; none when undefined. */
  idleTimeoutMs?: number;
  /** Builds a session's episode; a throw is the protocol's FACTORY_ERROR. */
  createEpisode: () => OpenEnvEpisode;
  factoryName: string;
  /** How long an ending session waits for its in-flight work (already aborted) before closing the environment anyway. */
  closeGraceMs?: number;
  log?: (line: string) => void;
}

interface Entry {
  session: Session;
  controller: AbortController;
  /** The last queued piece of work; the next waits for it. */
  tail: Promise<void>;
  busy: number;
  timer: NodeJS.Timeout | undefined;
  ending: Promise<void> | undefined;
}

export class SessionRegistry {
  private readonly entries = new Map<string, Entry>();
  /** Slots handed out by `reserve` and not yet opened or released. */
  private reserved = 0;
  /** Set by `endAll`: a session opened after it (a request whose body arrived during shutdown) would never be ended. */
  private closed = false;
  private readonly options: SessionRegistryOptions;

  constructor(options: SessionRegistryOptions) {
    this.options = options;
  }

  /** Sessions holding an environment, including those still closing it, and reserved slots. */
  get size(): number {
    return this.entries.size + this.reserved;
  }

  get maxSessions(): number {
    return this.options.maxSessions;
  }

  private full(): CapacityRefusal | undefined {
    const { maxSessions } = this.options;
    const active = this.size;
    if (active < maxSessions) return undefined;
    return { ok: false, code: 'CAPACITY_REACHED', message: `server at capacity: ${active} of ${maxSessions} sessions in use`, activeSessions: active, maxSessions };
  }

  /** Holds a place for a session opened later with it; CAPACITY_REACHED when none is free, SHUTTING_DOWN after `endAll`. */
  reserve(): { ok: true; slot: Slot } | CapacityRefusal | ShuttingDown {
    const refusal = this.closed ? SHUTTING_DOWN : this.full();
    if (refusal) return refusal;
    this.reserved++;
    return { ok: true, slot: new Slot(() => this.reserved--) };
  }

  /** Opens a session in a free place, or in `slot` while it is still held (it is used up either way). */
  open(kind: SessionKind, slot?: Slot): OpenResult {
    const { factoryName } = this.options;
    // Giving the slot back and taking its place below happen in one synchronous step: no one can come between.
    const reserved = slot?.release() ?? false;
    const refusal = this.closed ? SHUTTING_DOWN : reserved ? undefined : this.full();
    if (refusal) return refusal;
    let episode: OpenEnvEpisode;
    try {
      episode = this.options.createEpisode();
    } catch (error) {
      return { ok: false, code: 'FACTORY_ERROR', message: `could not create the environment (${factoryName}): ${errorMessage(error)}`, factoryName };
    }
    const controller = new AbortController();
    const session: Session = { id: randomUUID(), kind, episode, signal: controller.signal };
    const entry: Entry = { session, controller, tail: Promise.resolve(), busy: 0, timer: undefined, ending: undefined };
    this.entries.set(session.id, entry);
    this.armIdleTimer(entry);
    return { ok: true, session };
  }

  get(id: string): Session | undefined {
    const entry = this.entries.get(id);
    return entry && !entry.ending ? entry.session : undefined;
  }

  /** Runs `work` after the session's earlier work, so replies keep the order of requests. */
  run<T>(session: Session, work: () => Promise<T>): Promise<T> {
    const entry = this.entries.get(session.id);
    if (!entry || entry.ending) return Promise.reject(new SessionEndedError(session.id));
    const result = entry.tail.then(async () => {
      if (entry.ending) throw new SessionEndedError(session.id);
      entry.busy++;
      try {
        return await work();
      } finally {
        entry.busy--;
        entry.timer?.refresh();
      }
    });
    entry.tail = result.then(
      () => undefined,
      () => undefined,
    );
    entry.timer?.refresh();
    return result;
  }

  private armIdleTimer(entry: Entry): void {
    const timeoutMs = this.options.idleTimeoutMs;
    if (timeoutMs === undefined) return;
    const check = (): void => {
      if (entry.ending) return;
      // A long tool call is not idleness: look again once it is done.
      if (entry.busy > 0) {
        entry.timer?.refresh();
        return;
      }
      entry.session.onEnd?.('idle timeout');
      void this.end(entry.session, 'idle timeout');
    };
    // setTimeout fires at once past its longest delay; a timeout that long is as good as none.
    entry.timer = setTimeout(check, Math.min(timeoutMs, MAX_TIMER_MS));
    entry.timer.unref();
  }

  /**
   * Runs `work` on a throwaway session: counted against capacity while it runs, stopped when
   * `signal` (the request's: its client went away) aborts or the server stops, ended after. Opens
   * in `slot` when given (see `open`).
   */
  async throwaway<T>(signal: AbortSignal | undefined, work: (session: Session) => Promise<T>, slot?: Slot): Promise<Refusal | { ok: true; value: T }> {
    const opened = this.open('throwaway', slot);
    if (!opened.ok) return opened;
    const session = opened.session;
    const gone = () => void this.end(session, 'disconnected');
    if (signal?.aborted) gone();
    else signal?.addEventListener('abort', gone, { once: true });
    try {
      return { ok: true, value: await this.run(session, () => work(session)) };
    } finally {
      signal?.removeEventListener('abort', gone);
      await this.end(session, 'closed by client');
    }
  }

  /** Ends the session: aborts its work, waits for it (up to the grace time), closes the episode. Idempotent. */
  end(session: Session, reason: EndReason): Promise<void> {
    const entry = this.entries.get(session.id);
    if (!entry) return Promise.resolve();
    entry.ending ??= (async () => {
      clearTimeout(entry.timer);
      entry.controller.abort(new Error(`session ended: ${reason}`));
      let grace: NodeJS.Timeout | undefined;
      const graceOver = new Promise<'grace over'>((resolve) => {
        grace = setTimeout(() => resolve('grace over'), this.options.closeGraceMs ?? 10_000);
      });
      const settled = await Promise.race([entry.tail.then(() => 'settled' as const), graceOver]);
      clearTimeout(grace);
      if (settled === 'grace over') this.options.log?.(`session ${session.id}: in-flight work ignored its abort; closing the environment under it`);
      try {
        await session.episode.close();
      } catch (error) {
        this.options.log?.(`session ${session.id}: closing the environment failed: ${errorMessage(error)}`);
      } finally {
        this.entries.delete(session.id);
      }
    })();
    return entry.ending;
  }

  /** Ends every session, and refuses to open any more (SHUTTING_DOWN). */
  async endAll(reason: EndReason): Promise<void> {
    this.closed = true;
    const sessions = [...this.entries.values()].map((e) => e.session);
    for (const session of sessions) if (!this.entries.get(session.id)?.ending) session.onEnd?.(reason);
    await Promise.all(sessions.map((s) => this.end(s, reason)));
  }
}
