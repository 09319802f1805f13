// Closing a worker or coordinator ends every Redis connection BullMQ opened for it, including one
// that never became ready: a Redis that went away mid-handshake leaves BullMQ's own close waiting
// forever, and such a client, left reconnecting, kept a stopped `gauntlet worker` from exiting.
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { BullmqConnections, bullmq, parseRedisUrl, redisOptions, settlesWithin } from '../src/runner/queue/connection.ts';
import { until } from './queue-support.ts';

/** A TCP server that takes connections and never answers, as a Redis that stopped mid-handshake looks. */
async function silentServer(): Promise<{ port: number; open: Set<Socket>; close: () => Promise<void> }> {
  const open = new Set<Socket>();
  const server = createServer((socket) => {
    open.add(socket);
    socket.on('close', () => open.delete(socket));
    socket.on('error', () => {});
    socket.resume(); // reads (and drops) what comes, so a client's close is seen
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  return {
    port: address.port,
    open,
    close: () => {
      for (const socket of open) socket.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('BullMQ connections kept for closing', () => {
  it('ends a worker\'s connections that never became ready, so nothing reconnects after the close', { timeout: 60_000 }, async () => {
    const redis = await silentServer();
    const { Worker } = await bullmq();
    const connections = new BullmqConnections();
    const worker = new Worker('never-ready', async () => undefined, {
      connection: redisOptions(parseRedisUrl(`redis://127.0.0.1:${redis.port}`), { blocking: true }),
      prefix: 'gauntlet-test',
    });
    worker.on('error', () => {});
    connections.keep(worker);
    try {
      // Its main and blocking connections are open, and wait for an answer that never comes.
      await until('both connections open', () => (redis.open.size >= 2 ? true : undefined));
      // BullMQ's own close waits on those connections: bounded, as `gauntlet worker` bounds it.
      const closed = await settlesWithin(500, worker.close());
      assert.equal(closed, false, 'the close was expected to wait on the silent Redis');
      connections.disconnect();
      await until('every connection closed', () => (redis.open.size === 0 ? true : undefined), 10_000);
      // Ended for good: ioredis schedules no reconnect for a client in this state.
      const backend = worker.getBackend() as unknown as Record<'connection' | 'blockingConnection', { _client: { status: string } }>;
      assert.deepEqual([backend.connection._client.status, backend.blockingConnection._client.status], ['end', 'end']);
    } finally {
      connections.disconnect();
      await redis.close();
    }
  });
});
