// A fake-engine policy for external agents: it answers in the agent's *own* shell tool (codex's
// `exec_command {cmd}`, pi's `bash {command}`, qwen-code's `run_shell_command {command}` …),
// whichever the request declares, running a fixed list of commands and then answering in text.
import { InputError } from '../../core/index.ts';
import type { ChatTool } from '../../formats/index.ts';
import type { FakePolicy } from '../fake-engine/index.ts';

/** The argument that carries the command line, in the order agents name it. */
const COMMAND_ARGUMENTS = ['command', 'cmd'];

/** The declared tool that runs a shell command, with the name of its command argument. */
export function findShellTool(tools: readonly ChatTool[]): { name: string; argument: string } | null {
  for (const tool of tools) {
    if (!/bash|shell|exec|command/i.test(tool.function.name)) continue;
    const properties = (tool.function.parameters as { properties?: Record<string, { type?: unknown }> } | undefined)?.properties ?? {};
    const argument = COMMAND_ARGUMENTS.find((name) => properties[name]?.type === 'string' || (Array.isArray(properties[name]?.type) && (properties[name]?.type as unknown[]).includes('string')));
    if (argument) return { name: tool.function.name, argument };
  }
  return null;
}

export interface ShellPolicyOptions {
  /** Run one per turn after the task's prompt, in order. */
  commands: readonly string[];
  /** The final text answer. */
  answer: string;
}

/**
 * Turn k after the last user message runs `commands[k]` with the agent's shell tool; then it
 * answers. Requests without tools (an agent's side requests: titles, summaries) get the answer. A
 * request whose tools include no shell tool is an error response naming what it did offer: the
 * agent's tool format changed and the test must say so, not pass by accident.
 */
export function shellPolicy(options: ShellPolicyOptions): FakePolicy {
  if (options.commands.length === 0) throw new InputError('shell policy commands', 'is empty', 'at least one command');
  return {
    name: 'shell',
    next(request) {
      const step = request.turnsSinceUser;
      if (request.tools.length === 0 || step >= options.commands.length || request.toolChoice === 'none') {
        return { ok: true, turn: { reasoning: null, content: options.answer, toolCalls: [] } };
      }
      const shell = findShellTool(request.tools);
      if (!shell) return { ok: false, message: `shell policy: none of the request's tools runs commands: ${request.tools.map((t) => t.function.name).join(', ')}` };
      const command = options.commands[step] ?? '';
      return { ok: true, turn: { reasoning: request.thinking ? `Step ${step + 1}: run \`${command}\`.` : null, content: '', toolCalls: [{ name: shell.name, arguments: { [shell.argument]: command } }] } };
    },
  };
}
