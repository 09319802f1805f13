// Simulated-user tasks through the real episode lifecycle and agent loop: the oracle passes with
// the scripted user, an agent that acts before asking fails, and a simulator that breaks its
// scenario makes the rollout an infra error of source `user_simulator`, never the agent's fault.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { JsonObject, ModelClient, ModelResult, Task } from '../../core/index.ts';
import { createOraclePolicy } from '../../model/index.ts';
import { validateEnvironment } from '../../runner/index.ts';
import { mail, mailTasks } from '../mail/index.ts';
import { workplace, workplaceTasks } from '../workplace/index.ts';
import { createActFirstPolicy, createLlmUser, createScriptedUser, STOP, userModelFrom, type UserCallRecord } from './index.ts';
import { playUserEpisode } from './test-support.ts';

const userTasks = (tasks: Task[]) => tasks.filter((t) => t.tags.labels.includes('simulated-user'));
const mailUserTasks = userTasks(mailTasks());
const workplaceUserTasks = userTasks(workplaceTasks());
const find = (tasks: Task[], id: string) => tasks.find((t) => t.id === id) ?? assert.fail(`no task ${id}`);

const play = playUserEpisode;

function text(content: string): ModelResult {
  return { ok: true, response: { message: { role: 'assistant', content, toolCalls: [] }, finishReason: 'stop', usage: {} } };
}

function toolCall(name: string, args: JsonObject, id: string): ModelResult {
  return { ok: true, response: { message: { role: 'assistant', content: '', toolCalls: [{ id, name, arguments: args, argumentsText: JSON.stringify(args) }] }, finishReason: 'tool_calls', usage: {} } };
}

/** A model that plays fixed turns in order and fails loudly on an extra call. */
function scriptedModel(spec: string, turns: ModelResult[]): ModelClient & { calls: number } {
  const client = {
    specificationVersion: 'v1' as const,
    spec,
    calls: 0,
    async complete(): Promise<ModelResult> {
      const turn = turns[client.calls++];
      return turn ?? { ok: false, kind: 'script', message: `${spec}: no turn ${client.calls}`, retryable: false };
    },
  };
  return client;
}

describe('simulated-user tasks', () => {
  it('has at least 30 tasks across mail and workplace', () => {
    assert.ok(mailUserTasks.length + workplaceUserTasks.length >= 30, `${mailUserTasks.length} mail + ${workplaceUserTasks.length} workplace`);
    assert.ok(mailUserTasks.length > 0 && workplaceUserTasks.length > 0);
  });

  // One task per family here (src/envs/builtins.test.ts covers every task): about a second each.
  it('validates each family with the scripted user: golden passes, do-nothing, random, placeholder and destructive fail', async () => {
    const onePerFamily = (tasks: Task[]) => [...new Map(tasks.map((t) => [t.family?.name, t])).values()];
    for (const [definition, tasks] of [[mail, onePerFamily(mailUserTasks)], [workplace, onePerFamily(workplaceUserTasks)]] as const) {
      assert.ok(tasks.length >= 2);
      const report = await validateEnvironment({ definition, tasks, seed: 3, randomTries: 1 });
      assert.deepEqual(report.tasks.filter((t) => !t.valid).map((t) => `${t.taskId}: ${t.problems.join('; ')}`), []);
    }
  });

  it('fails an agent that acts before asking, on every task, and says why', async () => {
    for (const [definition, tasks] of [[mail, mailUserTasks], [workplace, workplaceUserTasks]] as const) {
      for (const task of tasks) {
        const outcome = await play({ definition, task, model: createActFirstPolicy() });
        assert.equal(outcome.kind, 'done', `${task.id}: ${outcome.kind === 'infra' || outcome.kind === 'error' ? outcome.message : ''}`);
        if (outcome.kind !== 'done') continue;
        assert.equal(outcome.verifier.passed, false, `${task.id}: acting first passed`);
        const asked = outcome.verifier.checks.find((c) => c.name === 'asked_before_acting');
        assert.equal(asked?.passed, false, `${task.id}: ${JSON.stringify(outcome.verifier.checks)}`);
        assert.match(asked?.detail ?? '', /ran before the user stated/);
      }
    }
  });

  it('lets the agent ask by answering in text: the user replies as the next turn, and asking then acting passes', async () => {
    const task = find(mailUserTasks, 'mail/ask-reply-choice-catering');
    const messageId = (task.golden.steps.find((s) => s.tool === 'reply')?.arguments.messageId as string) ?? assert.fail('no reply step');
    const agent = scriptedModel('text-agent', [
      text('Which menu would you like: Mediterranean, Thai or Mexican?'),
      text('Thai it is. Shall I send the reply to Dana now?'),
      toolCall('reply', { messageId, body: "Hi Dana, we'd like Thai, please. Robin" }, 'c1'),
      text('Replied to Dana: Thai.'),
    ]);
    const outcome = await play({ definition: mail, task, model: agent });
    assert.equal(outcome.kind, 'done');
    if (outcome.kind !== 'done') return;
    assert.equal(outcome.verifier.passed, true, JSON.stringify(outcome.verifier.checks));
    assert.equal(outcome.result.terminationReason, 'answered');
    const userTurns = outcome.result.history.filter((m) => m.role === 'user').map((m) => m.content);
    assert.deepEqual(userTurns.slice(1), ["Let's go with Thai.", 'Yes, go ahead.']);
    assert.equal(agent.calls, 4);
  });

  for (const [fault, pattern] of [
    ['leak', /revealed the private fact "secret"/],
    ['contradict', /contradicting its instructions/],
    ['stop_early', /ended the conversation while the agent was asking/],
  ] as const) {
    it(`reports a scripted user broken to ${fault} as a user_simulator infra error, not the agent's failure`, async () => {
      const task = find(workplaceUserTasks, 'workplace/ask-day-priya');
      const outcome = await play({ definition: workplace, task, model: createOraclePolicy(), user: createScriptedUser({ fault }) });
      assert.equal(outcome.kind, 'infra');
      if (outcome.kind !== 'infra') return;
      assert.equal(outcome.source, 'user_simulator');
      assert.match(outcome.message, pattern);
      assert.match(outcome.message, new RegExp(`scripted\\+${fault}`));
      assert.equal(outcome.retryable, false, 'a script answers the same way on retry');
    });
  }
});

describe('LLM user', () => {
  const task = find(mailUserTasks, 'mail/ask-forward-floor-plan');

  it('plays the user through any model client; each call is seen as made, with the scenario prompt and the agent as the other side', async () => {
    const simulator = scriptedModel('user-llm', [text('Forward it to Omar Haddad, omar.haddad@northwind.example.'), text(STOP)]);
    const calls: UserCallRecord[] = [];
    const user = createLlmUser({ model: userModelFrom(simulator, { onCall: (call) => calls.push(call) }) });
    const outcome = await play({ definition: mail, task, model: createOraclePolicy(), user });
    assert.equal(outcome.kind, 'done');
    if (outcome.kind !== 'done') return;
    assert.equal(outcome.verifier.passed, true, JSON.stringify(outcome.verifier.checks));
    assert.equal(calls.length, 2);
    const first = calls[0]!.request.messages;
    assert.equal(first[0]?.role, 'system');
    assert.match(first[0]?.content ?? '', /Private, never mention it/);
    assert.equal(first.at(-1)?.role, 'user');
    assert.equal(first.at(-1)?.content, 'Who should I forward the floor plan to?');
    assert.equal(first[2]?.content, task.instruction, "the opening request is the simulator's own first message");
  });

  it('turns a leaked secret from a model into a retryable user_simulator infra error', async () => {
    const simulator = scriptedModel('user-llm', [text('Omar Haddad. Also, the office may move to Glasgow, between us.')]);
    const outcome = await play({ definition: mail, task, model: createOraclePolicy(), user: createLlmUser({ model: userModelFrom(simulator) }) });
    assert.equal(outcome.kind, 'infra');
    if (outcome.kind !== 'infra') return;
    assert.equal(outcome.source, 'user_simulator');
    assert.match(outcome.message, /private fact "secret"/);
    assert.equal(outcome.retryable, true);
  });

  describe('a user that keeps chatting after the agent reported back', () => {
    const forward = task.golden.steps.find((s) => s.tool === 'forward') ?? assert.fail('no forward step');
    const worker = (...after: ModelResult[]) =>
      scriptedModel('agent', [toolCall('ask_user', { message: 'Who should I forward the floor plan to?' }, 'c1'), toolCall('forward', forward.arguments, 'c2'), ...after]);
    const recipient = text('Forward it to Omar Haddad, omar.haddad@northwind.example.');

    it('closes the conversation at the third unstopped reply, before the agent runs out of turns, and judges the world', async () => {
      const simulator = scriptedModel('user-llm', [recipient, text('Thanks!'), text("No, that's all, thanks."), text('You too!')]);
      const agent = worker(text('Forwarded the floor plan to Omar Haddad.'), text("You're welcome. Anything else I can help with?"), text('Great, have a nice day!'));
      const outcome = await play({ definition: mail, task, model: agent, user: createLlmUser({ model: userModelFrom(simulator) }) });
      assert.equal(outcome.kind, 'done', outcome.kind === 'infra' ? outcome.message : '');
      if (outcome.kind !== 'done') return;
      assert.equal(outcome.result.terminationReason, 'answered');
      assert.equal(outcome.verifier.passed, true, JSON.stringify(outcome.verifier.checks));
      assert.deepEqual([agent.calls, simulator.calls], [5, 4], 'closed at the third unstopped reply, with no further call either side');
    });

    it('scores, not excludes, an agent whose reports keep drawing objections because it never did the work', async () => {
      const simulator = scriptedModel('user-llm', [recipient, text("You haven't forwarded it yet."), text('It is still not in my sent folder.'), text('Please actually forward it.')]);
      const agent = scriptedModel('agent', [toolCall('ask_user', { message: 'Who should I forward the floor plan to?' }, 'c1'), text('Done: forwarded.'), text('Done, it is forwarded now.'), text('All done.')]);
      const outcome = await play({ definition: mail, task, model: agent, user: createLlmUser({ model: userModelFrom(simulator) }) });
      assert.equal(outcome.kind, 'done', outcome.kind === 'infra' ? `excluded as ${outcome.source}: ${outcome.message}` : '');
      if (outcome.kind !== 'done') return;
      assert.equal(outcome.result.terminationReason, 'answered');
      assert.equal(outcome.verifier.passed, false, 'nothing was forwarded');
    });

    it('lets the user follow up twice and then stop: the rollout is scored on the final state', async () => {
      const simulator = scriptedModel('user-llm', [recipient, text('Thanks!'), text('Great.'), text(STOP)]);
      const agent = worker(text('Forwarded the floor plan to Omar Haddad.'), text("You're welcome."), text('Bye!'));
      const outcome = await play({ definition: mail, task, model: agent, user: createLlmUser({ model: userModelFrom(simulator) }) });
      assert.equal(outcome.kind, 'done');
      if (outcome.kind !== 'done') return;
      assert.equal(outcome.result.terminationReason, 'answered');
      assert.equal(outcome.verifier.passed, true, JSON.stringify(outcome.verifier.checks));
    });
  });

  it('reports a failing simulator endpoint as the simulator infrastructure, not the agent model', async () => {
    const simulator = scriptedModel('user-llm', []);
    const outcome = await play({ definition: mail, task, model: createOraclePolicy(), user: createLlmUser({ model: userModelFrom(simulator) }) });
    assert.equal(outcome.kind, 'infra');
    if (outcome.kind === 'infra') {
      assert.equal(outcome.source, 'user_simulator');
      assert.match(outcome.message, /user simulator user-llm: script/);
    }
  });
});
