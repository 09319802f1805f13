// 200 concurrent WS sessions on mail and terminal, whose clients vanish at seeded random points
// (before reset, mid-reset, mid-step, in the middle of a running shell command, after a clean
// close): afterwards no session, no sandbox and no bwrap process may be left.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { createRng } from '../../core/index.ts';
import { sandboxAvailability } from '../../sandbox/index.ts';
import { OpenEnvSocket, waitFor } from '../../../test/support/openenv-client.ts';
import { startOpenEnvServer, type OpenEnvServer } from './server.ts';

const SESSIONS = 200;

/** bwrap processes descending from this process (the sandboxes' commands run under them). */
function bwrapDescendants(): number[] {
  const children = new Map<number, { ppid: number; comm: string }>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const comm = stat.slice(stat.indexOf('(') + 1, close);
      const ppid = Number(stat.slice(close + 2).split(' ')[1]);
      children.set(Number(entry), { ppid, comm });
    } catch {
      // the process ended while we looked
    }
  }
  const ours = new Set([process.pid]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [pid, { ppid }] of children) {
      if (!ours.has(pid) && ours.has(ppid)) {
        ours.add(pid);
        grew = true;
      }
    }
  }
  return [...ours].filter((pid) => children.get(pid)?.comm === 'bwrap');
}

type Exit = 'before reset' | 'mid reset' | 'mid step' | 'after steps' | 'clean close' | 'mid command';

interface Plan {
  server: OpenEnvServer;
  env: 'mail' | 'terminal';
  exit: Exit;
  steps: number;
  taskId: string;
}

const ACTIONS: Record<Plan['env'], Record<string, unknown>> = {
  mail: { type: 'call_tool', tool_name: 'search_messages', arguments: { query: 'invoice' } },
  terminal: { type: 'call_tool', tool_name: 'run_command', arguments: { command: 'ls -la; echo done' } },
};

async function play(socket: OpenEnvSocket, plan: Plan): Promise<void> {
  if (plan.exit === 'before reset') return socket.terminate();
  if (plan.exit === 'mid reset') {
    socket.send({ type: 'reset', data: { task_id: plan.taskId } });
    return socket.terminate();
  }
  const reset = (await socket.reset({ task_id: plan.taskId })) as { type: string };
  assert.equal(reset.type, 'observation', JSON.stringify(reset));
  for (let i = 0; i < plan.steps; i++) {
    const reply = (await socket.step(ACTIONS[plan.env])) as { type: string };
    assert.equal(reply.type, 'observation', JSON.stringify(reply));
  }
  if (plan.exit === 'mid step') {
    socket.send({ type: 'step', data: ACTIONS[plan.env] });
    return socket.terminate();
  }
  if (plan.exit === 'clean close') {
    await socket.close();
    return;
  }
  socket.terminate();
}

describe('OpenEnv server under load', () => {
  it(`leaks no session, sandbox or bwrap process after ${SESSIONS} concurrent sessions whose clients disconnect at random`, { timeout: 120_000 }, async () => {
    const { bwrap } = await sandboxAvailability();
    const mail = await startOpenEnvServer({ env: 'mail', port: 0, maxSessions: SESSIONS });
    const terminal = await startOpenEnvServer({ env: 'terminal', port: 0, maxSessions: SESSIONS });
    const servers = { mail, terminal };
    try {
      const rng = createRng(20_260_701);
      const exits: Exit[] = ['before reset', 'mid reset', 'mid step', 'after steps', 'clean close'];
      const taskIds = { mail: ['mail/reply-boiler-visit', 'mail/kestrel-launch-date', 'mail/flight-confirmation-code'], terminal: ['terminal/bump-package-version', 'terminal/fix-yaml-key-typo'] };
      const plans: Plan[] = Array.from({ length: SESSIONS }, (_, i) => {
        // A quarter on terminal (each reset there starts a real sandbox), the rest on mail.
        const env = i % 4 === 1 ? 'terminal' : 'mail';
        // Every fifth terminal client leaves while its shell command is still running.
        const exit: Exit = env === 'terminal' && i % 20 === 1 ? 'mid command' : rng.pick(exits);
        return { server: servers[env], env, exit, steps: rng.int(0, env === 'mail' ? 5 : 3), taskId: rng.pick(taskIds[env]) };
      });

      // Every client connected at once: 200 live sessions.
      const sockets = await Promise.all(plans.map((p) => OpenEnvSocket.connect(p.server.url)));
      assert.equal(mail.stats().sessions + terminal.stats().sessions, SESSIONS);

      const midCommand = plans.map((plan, i) => ({ plan, socket: sockets[i]! })).filter(({ plan }) => plan.exit === 'mid command');
      const others = plans.map((plan, i) => ({ plan, socket: sockets[i]! })).filter(({ plan }) => plan.exit !== 'mid command');
      const running = midCommand.map(async ({ plan, socket }) => {
        assert.equal(((await socket.reset({ task_id: plan.taskId })) as { type: string }).type, 'observation');
        socket.send({ type: 'step', data: { type: 'call_tool', tool_name: 'run_command', arguments: { command: 'sleep 60' } } });
      });
      await Promise.all([...others.map(({ plan, socket }) => play(socket, plan)), ...running]);
      if (bwrap.available) {
        // The long commands are really running before their clients vanish.
        await waitFor(() => bwrapDescendants().length >= midCommand.length, `${midCommand.length} sleeping bwrap commands`, 30_000);
      }
      assert.ok(terminal.stats().sandboxes >= midCommand.length, `the sandboxes of running commands are counted (${terminal.stats().sandboxes})`);
      for (const { socket } of midCommand) socket.terminate();

      await waitFor(
        () => mail.stats().sessions === 0 && terminal.stats().sessions === 0,
        'every session to end',
        60_000,
      );
      assert.equal(terminal.stats().sandboxes, 0, 'every terminal sandbox closed');
      assert.equal(mail.stats().sandboxes, 0);
      await waitFor(() => bwrapDescendants().length === 0, 'no bwrap process left', 10_000);
    } finally {
      await Promise.all([mail.close(), terminal.close()]);
    }
  });
});
