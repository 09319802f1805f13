import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cli } from '../../../test/support/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'gauntlet-validate-'));

/** A mail task whose message has `fromNme` (line 9) where `from` belongs. */
function misspeltTaskFile(): string {
  const path = join(dir, 'mine.yaml');
  writeFileSync(
    path,
    `tasks:
  - id: mine/reply
    env: mail
    tags: { domain: mail, difficulty: easy }
    instruction: Reply to Gemma that Friday works.
    initialState:
      messages:
        - id: msg_2741
          fromNme: gemma@harbourlets.example
          subject: Boiler service visit
          body: Which day suits you?
    verifier:
      checks:
        - { check: message_sent, to: [gemma@harbourlets.example] }
    golden:
      steps:
        - { tool: reply, arguments: { messageId: msg_2741, body: Friday works. } }
`,
  );
  return path;
}

describe('gauntlet validate --tasks-file', () => {
  it('names the file and line of a task data problem, as run does, and lists each problem once on stdout', async () => {
    const file = misspeltTaskFile();
    const { code, out, err } = await cli(['validate', '--tasks-file', file]);
    assert.equal(code, 1, err);
    assert.equal(err, '', 'problems are results: nothing repeated on stderr');
    const unknownKey = `${file}:9: initialState.messages.0: unknown key "fromNme"`;
    assert.ok(out.includes(unknownKey), out);
    assert.equal(out.split(unknownKey).length - 1, 1, `listed once: ${out}`);
    assert.doesNotMatch(out, /task data:/);
    assert.match(out, /^mail: 0\/1 tasks valid$/m);
    assert.match(out, /^ {2}INVALID mine\/reply$/m);
  });

  it('with --json gives the located problems in one document on stdout and nothing on stderr', async () => {
    const file = misspeltTaskFile();
    const { code, out, err } = await cli(['validate', '--tasks-file', file, '--json']);
    assert.equal(code, 1, err);
    assert.equal(err, '');
    const report = JSON.parse(out) as { valid: boolean; envs: { tasks: { taskId: string; problems: string[] }[] }[] };
    assert.equal(report.valid, false);
    const problems = report.envs[0]!.tasks[0]!.problems;
    assert.ok(problems.some((p) => p.startsWith(`${file}:9: initialState.messages.0: unknown key "fromNme"`)), problems.join('\n'));
  });
});
