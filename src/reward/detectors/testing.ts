// Trajectories written directly for tests: a task and turns of tool calls with their results,
// numbered as model calls 0, 1, 2…
import type { JsonObject } from '../../core/index.ts';
import type { Trajectory } from './trajectory.ts';

export interface TestToolUse {
  name: string;
  args: JsonObject;
  result?: string;
  error?: string;
}

export interface TestTurn {
  think?: string;
  say?: string;
  tools?: TestToolUse[];
}

const SYSTEMS: Record<string, string> = {
  coding: 'You are a software engineer working in the repository at /work.',
  terminal: 'You are working in a Linux sandbox; your working directory is /work.',
  mail: 'You are the email assistant of Robin Hale (me@northwind.example) at Northwind.',
};
const TOOLS: Record<string, string[]> = {
  coding: ['run_command', 'read_file', 'write_file', 'edit_file', 'list_files', 'submit'],
  terminal: ['run_command', 'read_file', 'write_file', 'list_files', 'submit'],
  mail: ['search_messages', 'read_message', 'send_message', 'reply', 'forward', 'create_draft', 'delete_message', 'add_label', 'submit'],
};

export function testTrajectory(spec: { env?: string; task: string; turns: TestTurn[]; finalAnswer?: string }): Trajectory {
  const env = spec.env ?? 'terminal';
  return {
    rolloutId: 'ro_test',
    attempt: 1,
    env,
    taskId: 'test/task',
    system: SYSTEMS[env] ?? '',
    userMessages: [spec.task],
    tools: (TOOLS[env] ?? []).map((name) => ({ name, description: name })),
    turns: spec.turns.map((turn, callIndex) => ({
      callIndex,
      reasoning: turn.think ?? '',
      content: turn.say ?? '',
      tools: (turn.tools ?? []).map((t, i) => ({
        callIndex,
        id: `call_${callIndex}_${i}`,
        name: t.name,
        args: t.args,
        argsText: JSON.stringify(t.args),
        result: t.error !== undefined ? { content: `Error: ${t.error}`, isError: true } : t.result !== undefined ? { content: t.result, isError: false } : null,
      })),
    })),
    finalAnswer: spec.finalAnswer ?? null,
    verifier: null,
  };
}

/** A shell step as the terminal environment replies to it. */
export function shell(command: string, output = '', exit = 0): TestToolUse {
  return { name: 'run_command', args: { command }, result: `exit code: ${exit}\nstdout:\n${output}\nstderr:\n` };
}
