import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RunConfig } from '../../core/index.ts';
import type { AgentRun } from '../../training/agents/index.ts';
import { waitFor } from '../../../test/support/wait.ts';
import type { CliIo } from '../io.ts';
import { workerAgents } from './worker.ts';

// A worker runs for weeks, and a trainer may serve each checkpoint under a model name of its own:
// the agent gateways it starts per agent and model must not add up for the life of the worker.

const io: CliIo = { stdout: () => {}, stderr: () => {}, interactive: false, env: {} };

function configFor(model: string): RunConfig {
  return RunConfig.parse({ envs: ['terminal'], model: `openai:http://127.0.0.1:9/v1#${model}`, epochs: 1, concurrency: 1, seed: 1, agent: { name: 'pi', version: '0.73.1' } });
}

/** Agent runs that only count their starts and closes. */
function fakeRuns() {
  const counts = { started: 0, closed: 0 };
  const start = async (): Promise<AgentRun> => {
    counts.started++;
    return {
      driver: { name: 'agent:pi', drive: () => Promise.reject(new Error('not played in this test')) },
      gatewayUrl: 'http://127.0.0.1:9',
      close: async () => void counts.closed++,
    };
  };
  return { counts, start };
}

describe('external agents of a long-lived worker', () => {
  it('closes the gateway of every agent and model no rollout holds, however many models come and go', async () => {
    const { counts, start } = fakeRuns();
    const agents = workerAgents(io, { start, idleMs: 1 });
    const models = 2000;
    for (let i = 0; i < models; i++) {
      const config = configFor(`checkpoint-${i}`);
      await agents.driverFor(config);
      agents.release(config);
    }
    await waitFor(() => counts.closed === models, `all ${models} gateways closed (${counts.closed} so far)`);
    assert.equal(agents.held(), 0);
    assert.equal(counts.started, models);
    await agents.close();
    assert.equal(counts.closed, models, 'none is closed twice');
  });

  it('keeps a gateway while a rollout holds it, and shares it between the rollouts of one model', async () => {
    const { counts, start } = fakeRuns();
    const agents = workerAgents(io, { start, idleMs: 1 });
    const held = configFor('held');
    await agents.driverFor(held);
    await agents.driverFor(held);
    agents.release(held);
    // Another model's gateway closing shows the idle closes have run; the one still held stays.
    const other = configFor('other');
    await agents.driverFor(other);
    agents.release(other);
    await waitFor(() => counts.closed === 1, "the other model's gateway closed");
    assert.deepEqual({ ...counts, held: agents.held() }, { started: 2, closed: 1, held: 1 });
    agents.release(held);
    await waitFor(() => counts.closed === 2, 'the held gateway closed once released by its last rollout');
    assert.equal(agents.held(), 0);
    await agents.close();
  });
});
