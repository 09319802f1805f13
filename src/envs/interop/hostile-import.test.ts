// Task folders as a hostile or careless source ships them: links out of the folder, FIFOs, huge
// files, malformed or out-of-range config. Each must end in a rejection naming the file and the
// problem, never a leak of a host file into the task, a hang or a crash of the whole import.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { resolveLimits } from '../../sandbox/limits.ts';
import { harborSandboxOptions } from './harbor-env.ts';
import { importTaskDirectory, importTaskFolder } from './harbor.ts';
import type { SandboxProbe } from './image.ts';
import { MAX_TASK_FILE_BYTES } from './task-files.ts';

const scratch = mkdtempSync(join(tmpdir(), 'gauntlet-hostile-import-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
const probe: SandboxProbe = { hasCommand: () => true, missingPythonModules: () => [] };

/** A host file no task may carry: stands for /etc/passwd or ~/.ssh/id_rsa. */
const SECRET = 'HOST-SECRET-7f3a';
const secretDir = join(scratch, 'home', '.ssh');
mkdirSync(secretDir, { recursive: true });
writeFileSync(join(secretDir, 'id_rsa'), `${SECRET}\n`);

let count = 0;
/** A valid Harbor task folder, with `files` replacing or adding to it; returns its path. */
function task(files: Record<string, string> = {}): string {
  const dir = join(scratch, `task-${++count}`);
  const all: Record<string, string> = {
    'task.toml': 'version = "1.0"\n[metadata]\ndifficulty = "easy"\n',
    'instruction.md': 'Do it.\n',
    'environment/Dockerfile': 'FROM ubuntu:24.04\nWORKDIR /app\nCOPY data.txt /app/data.txt\n',
    'environment/data.txt': 'hello\n',
    'solution/solve.sh': '#!/bin/bash\necho hi > out.txt\n',
    'tests/test.sh': '#!/bin/bash\necho 1 > /logs/verifier/reward.txt\n',
    ...files,
  };
  for (const [path, content] of Object.entries(all)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return dir;
}

/** Replaces `path` in the task folder by a symbolic link to `target`. */
function link(dir: string, path: string, target: string): string {
  rmSync(join(dir, path), { recursive: true, force: true });
  symlinkSync(target, join(dir, path));
  return dir;
}

/** The import's one rejection of `dir`, as its reasons. */
function rejection(dir: string): string {
  const result = importTaskDirectory(dir, { probe });
  assert.equal(result.imported.length, 0, `imported: ${JSON.stringify(result.imported.map((i) => i.task), null, 1).slice(0, 400)}`);
  assert.equal(result.rejected.length, 1);
  const reasons = result.rejected[0]!.reasons.join('\n');
  assert.ok(!reasons.includes(SECRET), 'the secret is not quoted back either');
  return reasons;
}

describe('importing task folders with links out of the folder', () => {
  const outside = /is a symbolic link to .*home\/\.ssh.*, outside the task folder; not read/;

  it('a file the Dockerfile copies that links to a host file is refused, not copied into the task', () => {
    const dir = link(task(), 'environment/data.txt', join(secretDir, 'id_rsa'));
    assert.match(rejection(dir), /^environment\/data\.txt: is a symbolic link to .*id_rsa, outside the task folder/);
  });

  it('a copied folder, tests/, solution/ or environment/ that links out is refused', () => {
    const copied = link(task({ 'environment/Dockerfile': 'FROM x\nWORKDIR /app\nCOPY conf/ /app/conf/\n' }), 'environment/conf', secretDir);
    assert.match(rejection(copied), /^environment\/conf: /);
    assert.match(rejection(copied), outside);
    assert.match(rejection(link(task(), 'tests', secretDir)), /^tests: /);
    assert.match(rejection(link(task(), 'solution', secretDir)), /^solution: /);
    // The whole build context elsewhere: its Dockerfile and `COPY .` would read the host folder.
    writeFileSync(join(secretDir, 'Dockerfile'), 'FROM x\nWORKDIR /app\nCOPY . /app/\n');
    assert.match(rejection(link(task(), 'environment', secretDir)), /^environment\/Dockerfile: is a symbolic link/);
  });

  it('a test file that links out is refused even when the folder itself is real', () => {
    const dir = task();
    symlinkSync(join(secretDir, 'id_rsa'), join(dir, 'tests', 'fixture.txt'));
    assert.match(rejection(dir), /^tests\/fixture\.txt: is a symbolic link/);
  });

  it('an instruction or task.toml that links out is refused', () => {
    assert.match(rejection(link(task(), 'instruction.md', join(secretDir, 'id_rsa'))), /instruction\.md: cannot read the instruction: is a symbolic link/);
    writeFileSync(join(secretDir, 'task.toml'), `version = "1.0"\n[metadata]\ncategory = "${SECRET}"\n`);
    assert.match(rejection(link(task(), 'task.toml', join(secretDir, 'task.toml'))), /task\.toml: cannot read the task config: is a symbolic link/);
  });

  it('links that stay inside the task folder are still followed', () => {
    const dir = task({ 'shared/data.txt': 'shared\n' });
    link(dir, 'environment/data.txt', join(dir, 'shared', 'data.txt'));
    const { task: imported } = importTaskFolder(dir, { probe });
    assert.match(JSON.stringify(imported.initialState), /"text":"shared\\n"/);
  });
});

describe('importing task folders with files that are not plain or not small', () => {
  it('a FIFO where a file is expected is refused at once instead of blocking the import', () => {
    const copied = task();
    rmSync(join(copied, 'environment/data.txt'));
    execFileSync('mkfifo', [join(copied, 'environment/data.txt')]);
    assert.match(rejection(copied), /^environment\/data\.txt: is not a regular file \(a FIFO, socket or device\)/);
    const instruction = task();
    rmSync(join(instruction, 'instruction.md'));
    execFileSync('mkfifo', [join(instruction, 'instruction.md')]);
    assert.match(rejection(instruction), /instruction\.md: cannot read the instruction: is not a regular file/);
  });

  it('a file too large to travel in a task file is refused by its size, without reading it (sparse, 3 GiB)', () => {
    for (const path of ['tests/blob.bin', 'environment/data.txt']) {
      const dir = task();
      closeSync(openSync(join(dir, path), 'w'));
      truncateSync(join(dir, path), 3 * 1024 ** 3);
      assert.match(rejection(dir), new RegExp(`^${path.replace('.', '\\.')}: is 3072\\.0 MiB \\(expected at most ${MAX_TASK_FILE_BYTES / 1024 / 1024} MiB per file\\)`));
    }
  });

  it('a directory where a file is expected, or a file where a folder is, is a rejection naming it', () => {
    const dockerfile = task();
    rmSync(join(dockerfile, 'environment/Dockerfile'));
    mkdirSync(join(dockerfile, 'environment/Dockerfile'));
    assert.match(rejection(dockerfile), /^environment\/Dockerfile: is a directory/);
    const tests = task();
    rmSync(join(tests, 'tests'), { recursive: true });
    writeFileSync(join(tests, 'tests'), 'not a folder\n');
    assert.match(rejection(tests), /^tests: is not a directory/);
  });
});

describe('importing task folders with malformed or out-of-range config', () => {
  it('a Terminal-Bench 1 docker-compose.yaml that is not YAML rejects that task, not the whole import', () => {
    const root = join(scratch, 'tb1-suite');
    const good = join(root, 'a-good');
    const bad = join(root, 'b-bad-compose');
    for (const dir of [good, bad]) {
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'task.yaml'), 'instruction: Write hi to out.txt.\ndifficulty: easy\n');
      writeFileSync(join(dir, 'Dockerfile'), 'FROM x\nWORKDIR /app\n');
      writeFileSync(join(dir, 'run-tests.sh'), 'test -f out.txt\n');
      writeFileSync(join(dir, 'solution.sh'), 'echo hi > out.txt\n');
    }
    writeFileSync(join(bad, 'docker-compose.yaml'), 'services: [\n');
    const result = importTaskDirectory(root, { probe });
    assert.deepEqual(result.imported.map((i) => i.dir), [good]);
    assert.equal(result.rejected[0]!.dir, bad);
    assert.match(result.rejected[0]!.reasons[0]!, /docker-compose\.yaml: not valid YAML: /);
  });

  it('memory or timeouts the sandbox cannot be given are rejected at import, naming the field', () => {
    assert.match(rejection(task({ 'task.toml': 'version = "1.0"\n[environment]\nmemory_mb = 1e308\n' })), /task\.toml: \[environment\] memory 1e\+308 MB is outside what a sandbox can be given \(16 to 1048576 MB\)/);
    assert.match(rejection(task({ 'task.toml': 'version = "1.0"\n[environment]\nmemory = "4K"\n' })), /\[environment\] memory 0\.00390625 MB is outside/);
    assert.match(rejection(task({ 'task.toml': 'version = "1.0"\n[environment]\nstorage_mb = 0.5\n' })), /\[environment\] storage 0\.5 MB is less than a sandbox's smallest work dir/);
    assert.match(rejection(task({ 'task.toml': 'version = "1.0"\n[verifier]\ntimeout_sec = 1e9\n' })), /\[verifier\] timeout_sec = 1000000000 is longer than a sandbox command may run/);
    assert.match(rejection(task({ 'task.toml': 'version = "1.0"\n[agent]\ntimeout_sec = 1e7\n' })), /\[agent\] timeout_sec = 10000000 is longer/);
    assert.match(rejection(task({ 'task.toml': 'version = "1.0"\n[agent]\ntimeout_sec = 0.0001\n' })), /\[agent\] timeout_sec = 0\.0001 is shorter than a millisecond/);
  });

  it('what does import is a task whose sandbox limits the sandbox accepts', () => {
    const { task: imported } = importTaskFolder(task({ 'task.toml': 'version = "1.0"\n[environment]\nmemory_mb = 16\nstorage_mb = 1\n[agent]\ntimeout_sec = 2147483\n' }), { probe });
    assert.doesNotThrow(() => resolveLimits(harborSandboxOptions(imported).limits));
  });

  it('a config value no task can hold rejects the task instead of throwing out of the import', () => {
    const { task: imported } = importTaskFolder(task({ 'task.toml': 'version = "1.0"\n[metadata]\ncategory = ""\n' }), { probe });
    assert.equal(imported.tags.domain, 'terminal');
  });
});
