// `gauntlet detect --input` given hostile files: bytes that are not UTF-8, a byte-order mark, lines
// past any sensible size, a directory, records from a newer Gauntlet, values nested past the stack,
// and ids or commands holding terminal escapes that must not reach the terminal as such.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import type { DetectDocument } from './detect.ts';
import { detect } from './detect-test-support.ts';

const TRAJECTORIES = fileURLToPath(new URL('../../../test/fixtures/detectors/trajectories.jsonl', import.meta.url));
const lines = readFileSync(TRAJECTORIES, 'utf8').split('\n').filter(Boolean);
const lineOf = (id: string) => lines.find((l) => l.includes(`"ro_det_${id}"`))!;


const file = (name: string, content: string | Buffer) => {
  const path = join(mkdtempSync(join(tmpdir(), 'gauntlet-detect-input-')), name);
  writeFileSync(path, content);
  return path;
};

describe('gauntlet detect --input with hostile files', () => {
  it('reads a file that starts with a byte-order mark, and CRLF line ends', async () => {
    const path = file('bom.jsonl', `\ufeff${lineOf('dc-cd-up-rm')}\r\n${lineOf('ok-rm-node-modules')}\r\n`);
    const { out, code } = await detect(['--input', path, '--json']);
    assert.equal(code, 0);
    assert.deepEqual((JSON.parse(out) as DetectDocument).rollouts.map((r) => [r.rolloutId, r.flags.length]), [
      ['ro_det_dc-cd-up-rm', 1],
      ['ro_det_ok-rm-node-modules', 0],
    ]);
  });

  it('refuses bytes that are not UTF-8, naming the line, instead of reading them as U+FFFD', async () => {
    const bad = Buffer.from(lineOf('dc-cd-up-rm').replace('rm -rf *', 'rm -rf XX'));
    bad[bad.indexOf('XX')] = 0xff;
    const path = file('latin.jsonl', Buffer.concat([Buffer.from(`${lineOf('ok-rm-node-modules')}\n`), bad, Buffer.from('\n')]));
    await assert.rejects(detect(['--input', path]), (e: unknown) => e instanceof Error && e.message.startsWith(`${path}:2: the line is not valid UTF-8`));
  });

  it('says a directory given as --input is one', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'gauntlet-detect-input-')), 'runs.jsonl');
    mkdirSync(dir);
    await assert.rejects(detect(['--input', dir]), (e: unknown) => e instanceof Error && e.message.startsWith(`--input: ${dir} is a directory`));
  });

  it('refuses a line written by a newer Gauntlet', async () => {
    const path = file('new.jsonl', `${lineOf('dc-cd-up-rm').replace(/^\{"schemaVersion":\d+/, '{"schemaVersion":99')}\n`);
    await assert.rejects(detect(['--input', path]), (e: unknown) => e instanceof Error && e.message.startsWith(`${path}:1: schemaVersion: the line has schema version 99, newer than this Gauntlet reads`));
  });

  it('refuses arguments nested deeper than the stack, naming the line', async () => {
    const deep = `${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}`;
    const path = file('deep.jsonl', `${lineOf('dc-cd-up-rm').replace('{"command":"cd .. && rm -rf *"}', `{"command":"ls","x":${deep}}`)}\n`);
    await assert.rejects(detect(['--input', path]), (e: unknown) => e instanceof Error && e.name === 'InputError' && e.message.startsWith(`${path}:1: nested too deeply to read`));
  });

  it('shows ids, excerpts and reasons from the input with their control characters escaped', async () => {
    const hostile = lineOf('dc-cd-up-rm')
      .replaceAll('ro_det_dc-cd-up-rm', 'ro_\\u001b[2J\\u202eevil')
      .replaceAll('cd .. && rm -rf *', 'rm -rf \\"/etc/x\\u001b]0;pwned\\u0007\\nHIGH forged\\"');
    const { out, code } = await detect(['--input', file('escapes.jsonl', `${hostile}\n`)]);
    assert.equal(code, 0);
    // eslint-disable-next-line no-control-regex -- finding control characters is the point
    assert.doesNotMatch(out, /[\u0000-\u0008\u000b-\u001f\u007f\u202e]/);
    assert.match(out, /ro_\\x1b\[2J\\u202eevil/);
    assert.match(out, /deletes \/etc\/x\\x1b\]0;pwned\\x07\\x0aHIGH forged, outside the work dir/);
    assert.doesNotMatch(out, /\nHIGH forged/);
  });
});
