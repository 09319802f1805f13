// Raw TCP clients for testing what a server lets one connection hold: sockets that send nothing,
// heads sent a byte at a time, requests on a chosen kept-alive socket. Nothing here sleeps: tests
// wait on a socket's own events.
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after } from 'node:test';

export interface RawSocket {
  socket: Socket;
  /** Everything the server has sent so far. */
  received(): string;
  /** Resolves when the socket has closed, whoever closed it. */
  closed: Promise<void>;
}

/** Opens a TCP connection to `url`'s host and port (unix socket path when given instead). */
export function openRaw(url: string | { path: string }, from: { localAddress?: string } = {}): Promise<RawSocket> {
  return new Promise((resolve, reject) => {
    const socket =
      typeof url === 'string'
        ? connect({ port: Number(new URL(url).port), host: new URL(url).hostname.replace(/^\[|\]$/g, ''), ...(from.localAddress ? { localAddress: from.localAddress } : {}) })
        : connect(url.path);
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (text += chunk));
    // A server that drops the socket may reset it; the close that follows is what tests wait on.
    socket.on('error', () => {});
    const closed = new Promise<void>((done) => socket.once('close', () => done()));
    socket.once('connect', () => resolve({ socket, received: () => text, closed }));
    socket.once('error', reject);
  });
}

/**
 * Sends `head` (a request's head, CRLF-terminated) and resolves with the status line of the answer,
 * or with null when the socket closes first.
 */
export function statusOf(raw: RawSocket, head: string): Promise<string | null> {
  const before = raw.received().length;
  return new Promise((resolve) => {
    const look = (): void => {
      const fresh = raw.received().slice(before);
      const end = fresh.indexOf('\r\n');
      if (end < 0) return;
      raw.socket.off('data', look);
      resolve(fresh.slice(0, end));
    };
    raw.socket.on('data', look);
    void raw.closed.then(() => {
      raw.socket.off('data', look);
      resolve(null);
    });
    raw.socket.write(head);
  });
}

/** Resolves once the server has sent `text` (anywhere so far); rejects if the socket closes first. */
export function untilReceived(raw: RawSocket, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const look = (): void => {
      if (!raw.received().includes(text)) return;
      raw.socket.off('data', look);
      resolve();
    };
    raw.socket.on('data', look);
    void raw.closed.then(() => {
      raw.socket.off('data', look);
      if (raw.received().includes(text)) resolve();
      else reject(new Error(`the socket closed before ${JSON.stringify(text)} arrived; it got ${JSON.stringify(raw.received().slice(-200))}`));
    });
    look();
  });
}

/** A kept-alive GET of `path` on `host`, with extra header lines (e.g. `authorization: Bearer x`). */
export function getHead(path: string, host: string, ...headers: string[]): string {
  return [`GET ${path} HTTP/1.1`, `Host: ${host}`, ...headers, '', ''].join('\r\n');
}

/** Half Node's default header limit (16 KiB): a trickled head never ends in 431, only in the server's timeout. */
const TRICKLE_MAX_BYTES = 8 * 1024;

/**
 * Writes a request head that never ends, one byte at a time (a slowloris client): each byte once
 * the one before has been handed to the socket, until the server closes it (resolves then) or the
 * head reaches TRICKLE_MAX_BYTES, after which the connection stays open and silent. Nothing is
 * timed here: however fast or slow the bytes go, only the server's head timeout can end it (408).
 */
export function trickleHead(raw: RawSocket, host = 'localhost'): Promise<void> {
  const head = `GET / HTTP/1.1\r\nHost: ${host}\r\nX-Slow: `;
  let sent = 0;
  let stopped = false;
  const next = (): void => {
    if (stopped || raw.socket.destroyed || sent >= TRICKLE_MAX_BYTES) return;
    const byte = sent < head.length ? head[sent]! : 'a';
    sent++;
    // The write's callback, then a turn of the event loop: the server reads between bytes.
    raw.socket.write(byte, () => setImmediate(next));
  };
  next();
  return raw.closed.then(() => {
    stopped = true;
  });
}

/**
 * Opens `limit` kept-alive connections and sends `head` on each (`answers`: their status lines),
 * then one more connection (`extra`: its status line, null when closed unanswered), then `head` again
 * on the first ones (`afterwards`). The caller destroys `sockets` when done.
 */
export async function fillConnections(url: string | { path: string }, limit: number, head: string): Promise<{ answers: (string | null)[]; extra: string | null; afterwards: (string | null)[]; sockets: RawSocket[] }> {
  const sockets: RawSocket[] = [];
  for (let i = 0; i < limit; i++) sockets.push(await openRaw(url));
  const answers = await Promise.all(sockets.map((raw) => statusOf(raw, head)));
  const last = await openRaw(url);
  sockets.push(last);
  const extra = await statusOf(last, head);
  const afterwards = await Promise.all(sockets.slice(0, limit).map((raw) => statusOf(raw, head)));
  return { answers, extra, afterwards, sockets };
}

/**
 * Servers and raw sockets a test file opens, all closed when the file's tests end: `started`
 * keeps a server, `open` a socket, `keep` sockets opened elsewhere (by `fillConnections`).
 */
export function closedAfterTests<S extends { close(): Promise<unknown> }>(): { started(server: S): S; open(url: string): Promise<RawSocket>; keep(sockets: RawSocket[]): void } {
  const servers: S[] = [];
  const sockets: RawSocket[] = [];
  after(async () => {
    for (const raw of sockets) raw.socket.destroy();
    await Promise.all(servers.map((server) => server.close()));
  });
  return {
    started: (server) => (servers.push(server), server),
    open: async (url) => {
      const raw = await openRaw(url);
      sockets.push(raw);
      return raw;
    },
    keep: (more) => void sockets.push(...more),
  };
}

/** The answer once the server has closed the connection: status line, headers, JSON body. */
export async function answerOnClose(raw: RawSocket): Promise<{ status: string; head: string; body: Record<string, unknown> }> {
  await raw.closed;
  const text = raw.received();
  const split = text.indexOf('\r\n\r\n');
  assert.ok(split > 0, `no answer came back: ${JSON.stringify(text)}`);
  const head = text.slice(0, split);
  return { status: head.split('\r\n')[0]!, head, body: JSON.parse(text.slice(split + 4)) as Record<string, unknown> };
}
