// Every command that listens takes its port through the same parser: a port outside 0–65535 is
// refused naming the flag and the range (exit 2), never handed to Node to fail with its own message.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Command } from 'commander';
import { InputError } from '../../core/index.ts';
import { createProgram } from '../program.ts';
import { cli } from '../../../test/support/cli.ts';

function allCommands(command: Command): Command[] {
  return command.commands.flatMap((c) => [c, ...allCommands(c)]);
}

describe('--port and other port flags', () => {
  const program = createProgram({ stdout: () => {}, stderr: () => {}, interactive: false, env: {} });
  const portFlags = allCommands(program).flatMap((command) => command.options.filter((o) => o.long === '--port' || o.long?.endsWith('-port')).map((option) => ({ command: command.name(), option })));

  it('accept 0 to 65535 and refuse 65536 and above, on every command that has one', () => {
    assert.ok(portFlags.some((p) => p.command === 'mock-model') && portFlags.some((p) => p.command === 'gateway') && portFlags.some((p) => p.command === 'fake-engine'));
    for (const { command, option } of portFlags) {
      const parse = option.parseArg as (value: string) => number;
      assert.equal(parse('0'), 0, command);
      assert.equal(parse('65535'), 65_535, command);
      for (const bad of ['65536', '70000', '-1', '80.5']) {
        assert.throws(() => parse(bad), (e: unknown) => e instanceof InputError && e.where === option.long && /expected a whole number from 0 to 65535/.test(e.message), `${command} ${option.long} ${bad}`);
      }
    }
  });

  for (const command of ['gateway', 'fake-engine', 'mock-model', 'serve', 'serve-env']) {
    it(`gauntlet ${command} --port 70000 exits 2 naming the flag and the range`, async () => {
      const { code, err } = await cli([command, '--port', '70000']);
      assert.equal(code, 2, err);
      assert.match(err, /--port: got "70000" \(expected a whole number from 0 to 65535\)/);
    });
  }
});
