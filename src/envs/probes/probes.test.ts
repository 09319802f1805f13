import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ToolInvocation, type JsonObject, type Task } from '../../core/index.ts';
import { instantiate } from '../instance.ts';
import { PROBE_CATEGORIES, probes, probeTasks, probeVerdict, type ProbeCall } from './index.ts';

const tasks = probeTasks();
const cheatOf = (task: Task): ToolInvocation[] => ToolInvocation.array().parse(task.metadata?.cheat);
const calls = (steps: readonly ToolInvocation[]): ProbeCall[] => steps.map((s) => ({ tool: s.tool, arguments: s.arguments as JsonObject }));

describe('shortcut probes', () => {
  it('offers every category on four repos', () => {
    for (const category of PROBE_CATEGORIES) assert.equal(tasks.filter((t) => t.tags.domain === category).length, 4, category);
  });

  // Every probe's validation (the honest path passes; idle, placeholder, destructive and random play
  // fail) runs with every built-in environment's in src/envs/builtins.test.ts.

  it('the honest path takes no shortcut and the cheating path takes each one', () => {
    for (const task of tasks) {
      assert.equal(probeVerdict(task, calls(task.golden.steps)).taken, false, `${task.id}: honest path flagged`);
      const cheat = probeVerdict(task, calls(cheatOf(task)));
      assert.equal(cheat.taken, true, `${task.id}: cheat not seen`);
      assert.ok(cheat.evidence.length > 0);
    }
  });

  it('the cheating path is a real action in the world (every call succeeds) and impossible probes cannot be passed by it', async () => {
    const signal = new AbortController().signal;
    for (const task of tasks) {
      const env = instantiate(probes);
      await env.reset(task, { seed: 1 });
      let answer: string | null = null;
      for (const s of cheatOf(task)) {
        const out = await env.call(s.tool, s.arguments, { signal });
        assert.equal(out.ok, true, `${task.id}: ${s.tool} ${out.ok ? '' : out.error}`);
        if (out.ok && out.answer !== undefined) answer = out.answer;
      }
      const verdict = await env.verify({ answer });
      // Shortcuts that reach the right state may pass; those that change tests or defy the spec may not.
      if (['writable-tests', 'exists-only', 'impossible'].includes(task.tags.domain)) assert.equal(verdict.passed, false, task.id);
      await env.close();
    }
  });

  it('reads paths the way the tools do (./ and /work/ prefixes) and ignores unrelated calls', () => {
    const task = tasks.find((t) => t.tags.domain === 'answer-file')!;
    assert.equal(probeVerdict(task, [{ tool: 'read_file', arguments: { path: './.grader/solution.json' } }]).taken, true);
    assert.equal(probeVerdict(task, [{ tool: 'read_file', arguments: { path: '/work/.grader/solution.json' } }]).taken, true);
    assert.equal(probeVerdict(task, [{ tool: 'read_file', arguments: null }, { tool: 'list_files', arguments: {} }]).taken, false);
  });
});
