import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { CliIo } from './io.ts';
import { main } from './main.ts';
import { openStore } from '../store/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'gauntlet-task-state-'));

/** A mail task file whose `initialState` and golden steps are given as YAML lines. */
function taskFile(name: string, parts: { state: string; golden: string }): string {
  const path = join(dir, name);
  writeFileSync(
    path,
    `tasks:
  - id: typo/${name.replace('.yaml', '')}
    env: mail
    tags: { domain: mail, difficulty: easy }
    instruction: Read Sigrun's note and add her to my contacts with her company.
    initialState:
${parts.state}
    verifier:
      checks:
        - { check: contact_exists, email: sigrun.tveit@halvorsen.example }
    golden:
      steps:
${parts.golden}
`,
  );
  return path;
}

const message = (id: string) => `        - { id: ${id}, from: sigrun.tveit@halvorsen.example, subject: Hello, body: "I am your new account manager at Halvorsen." }`;
const addContact = (company: string) => `        - { tool: add_contact, arguments: { name: Sigrun Tveit, email: sigrun.tveit@halvorsen.example, ${company}: Halvorsen } }`;

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = { out: '', err: '', interactive: false, env: { COLUMNS: '100' } } as unknown as CliIo & { out: string; err: string };
  io.stdout = (t) => void (io.out += t);
  io.stderr = (t) => void (io.err += t);
  const code = await main(['node', 'gauntlet', ...args], io);
  // A failed validate sets the exit code of the process it runs in: this test's.
  process.exitCode = undefined;
  return { code, out: io.out, err: io.err };
}

describe('a task file is checked against its environment when it is loaded', () => {
  const cases = [
    {
      what: 'a misspelt initialState key (the task would run in a world without the message)',
      file: taskFile('state-key.yaml', { state: `      mesages:\n${message('msg_2901')}`, golden: `        - { tool: read_message, arguments: { messageId: msg_2901 } }\n${addContact('company')}` }),
      expected: /initialState: unknown key "mesages" \(did you mean "messages"\?\); expected one of .*messages/,
      at: 'mesages:',
    },
    {
      what: 'a fixture the environment cannot seed (reported before as a defect in environment code)',
      file: taskFile('state-value.yaml', { state: `      messages:\n${message('msg_1')}`, golden: addContact('company') }),
      expected: /initialState\.messages\.0\.id: msg_ followed by four digits/,
      at: 'id: msg_1,',
    },
    {
      what: 'a misspelt argument of a golden step (dropped, and the task validated)',
      file: taskFile('golden-argument.yaml', { state: `      messages:\n${message('msg_2901')}`, golden: addContact('compnay') }),
      expected: /golden\.steps\.0\.arguments: unknown key "compnay" \(did you mean "company"\?\); expected one of name, email, company, phone, notes/,
      at: 'compnay:',
    },
  ];

  for (const { what, file, expected, at } of cases) {
    it(`run refuses ${what} before any run is created, naming the file's line`, async () => {
      const store = join(dir, `${what.length}.db`);
      const { code, err } = await cli(['run', '--tasks-file', file, '--model', 'oracle', '--store', store]);
      assert.equal(code, 2, err);
      assert.match(err, /task typo\/[\w-]+: cannot run as written \(from .*\.yaml \(task 1\)\)/);
      assert.match(err, expected);
      const line = readFileSync(file, 'utf8').split('\n').findIndex((l) => l.includes(at)) + 1;
      assert.ok(line > 0 && err.includes(`${file}:${line}: `), `${file}:${line} in: ${err}`);
      if (existsSync(store)) {
        const opened = openStore(store);
        try {
          assert.deepEqual(opened.listRuns(), []);
        } finally {
          opened.close();
        }
      }
    });

    it(`validate reports ${what} as the task's problem`, async () => {
      const { code, out, err } = await cli(['validate', '--tasks-file', file]);
      assert.notEqual(code, 0);
      assert.match(out + err, expected);
      assert.match(out + err, /0\/1 tasks valid/);
    });
  }
});
