import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { InputError, type Task } from '../../core/index.ts';
import { loadTaskFile } from '../tasks.ts';
import { HarborTestsParams } from './checks.ts';
import { harborSandboxOptions } from './harbor-env.ts';
import { HarborState, type BuildStep } from './harbor-state.ts';
import { importTaskDirectory, importTaskFolder, TaskRejected, type ImportOptions } from './harbor.ts';
import type { SandboxProbe } from './image.ts';
import { writeTasksYaml } from './tasks-yaml.ts';

const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/harbor/', import.meta.url));
const SUITE = join(FIXTURES, 'suite');
const scratch = mkdtempSync(join(tmpdir(), 'gauntlet-interop-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** A machine with every command but `python` and `pip` (so the aliases show), and every module. */
const probe: SandboxProbe = { hasCommand: (name) => name !== 'python' && name !== 'pip', missingPythonModules: () => [] };
const options: ImportOptions = { probe };

/** Writes a task folder from `{ relative path: content }` and returns its path. */
function folder(name: string, files: Record<string, string>): string {
  const dir = join(scratch, name);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return dir;
}

function params(task: Task): HarborTestsParams {
  const checks = task.verifier.checks as Record<string, unknown>[];
  assert.equal(checks.length, 1);
  assert.equal(checks[0]!.check, 'harbor_tests');
  return HarborTestsParams.parse(checks[0]);
}

function state(task: Task): HarborState {
  return HarborState.parse(task.initialState);
}

function steps<K extends BuildStep['kind']>(task: Task, kind: K): Extract<BuildStep, { kind: K }>[] {
  return state(task).build.filter((s): s is Extract<BuildStep, { kind: K }> => s.kind === kind);
}

function placed(task: Task): Map<string, { text?: string; base64?: string; executable: boolean }> {
  return new Map(steps(task, 'files').flatMap((s) => s.files.map((f) => [f.path, f] as const)));
}

describe('importing a Harbor / Terminal-Bench 2 task (schema_version 1.1)', () => {
  const { task, adaptations, skipped } = importTaskFolder(join(FIXTURES, 'tb2-word-count'), options);

  it('keeps the original name as the id and the instruction as written: the work dir is mounted at the WORKDIR', () => {
    assert.equal(task.id, 'gauntlet-fixtures/tb2-word-count');
    assert.equal(task.env, 'harbor');
    assert.deepEqual(task.tags, { domain: 'file-operations', difficulty: 'easy', labels: ['text', 'coreutils', 'wc', 'counting'] });
    assert.equal(task.limits.deadlineMs, 300_000);
    assert.equal(state(task).workdir, '/app');
    assert.match(task.instruction, /^The file \/app\/notes\.txt holds/);
    assert.equal(harborSandboxOptions(task).workdir, '/app');
  });

  it('replays the build in order: copied files in the work dir, others under .image-root, the offline RUN kept', () => {
    assert.deepEqual(
      state(task).build.map((s) => s.kind),
      ['run', 'files', 'files', 'files', 'run'],
    );
    assert.deepEqual([...placed(task).keys()], ['notes.txt', 'README.md', '.image-root/opt/wordcount/reference/expected.txt']);
    assert.equal(placed(task).get('README.md')!.text, 'Notes live in /app/notes.txt; results go beside them.\n');
    assert.equal(steps(task, 'run')[1]!.script, 'mkdir -p /app/out');
    assert.deepEqual(params(task).imagePaths, { '/opt/wordcount/reference': '.image-root/opt/wordcount/reference' });
  });

  it('lists the network steps it skipped, apart from the other adaptations', () => {
    assert.deepEqual(skipped, [
      'environment/Dockerfile:3: skipped offline (installs system packages): apt-get update',
      'environment/Dockerfile:3: skipped offline (installs system packages): apt-get install -y --no-install-recommends coreutils tmux',
    ]);
    assert.equal(steps(task, 'run')[0]!.script, 'true && true \\\n    && rm -rf /var/lib/apt/lists/*');
    assert.deepEqual(task.metadata?.skippedBuildSteps, skipped);
    assert.deepEqual(task.metadata?.adaptations, adaptations);
    const all = adaptations.join('\n');
    assert.match(all, /tests\/test\.sh:4: skipped offline \(downloads from the network\): curl/);
    assert.match(all, /tests\/test\.sh:7: pytest via uvx replaced by Gauntlet's test runner.*options dropped: --ctrf \/logs\/verifier\/ctrf\.json -rA/);
    assert.match(all, /base image python:3\.13-slim-bookworm is pulled only by sandboxes that run images/);
  });

  it('keeps the tests out of the initial state and adapts test.sh', () => {
    const p = params(task);
    assert.equal(p.containerWorkdir, '/app');
    assert.equal(p.layout, 'harbor');
    assert.equal(p.timeoutMs, 120_000);
    assert.deepEqual(Object.keys(p.files).sort(), ['test.sh', 'test_outputs.py']);
    assert.match(p.files['test.sh']!, /^python3 "\$GAUNTLET_TEST_RUNNER" \/tests\/test_outputs\.py$/m);
    assert.ok(!JSON.stringify(task.initialState).includes('test_count_is_right'));
  });

  it('golden steps write solve.sh into the work dir and run it, with the agent timeout', () => {
    assert.deepEqual(task.golden.steps.map((s) => s.tool), ['write_file', 'run_command']);
    assert.equal(task.golden.steps[0]!.arguments.path, '.harbor-solution/solve.sh');
    assert.match(String(task.golden.steps[0]!.arguments.content), /wc -w < \/app\/notes\.txt/);
    assert.equal(task.golden.steps[1]!.arguments.command, 'bash .harbor-solution/solve.sh; status=$?; rm -rf .harbor-solution; exit $status');
    assert.equal(task.golden.steps[1]!.arguments.timeoutSeconds, 300);
  });
});

describe('the fixture suite: each feature at import', () => {
  const load = (path: string) => importTaskFolder(join(SUITE, path), options);

  it('build steps: ARG and ENV reach RUN, SHELL and heredoc RUNs are honoured, network commands are skipped and listed', () => {
    const { task, skipped } = load('tb2/build-steps');
    const runs = steps(task, 'run');
    assert.equal(runs.length, 3);
    assert.equal(runs[0]!.script, 'true && true \\\n    && rm -rf /var/lib/apt/lists/*');
    assert.match(runs[1]!.script, /^python3 gen_readings\.py --seed "\$SEED" --out readings\.csv \\\n\\\n {4}&& mkdir -p "\$REPORT_DIR" \\\n {4}&& rm gen_readings\.py$/);
    assert.deepEqual({ SEED: runs[1]!.env.SEED, REPORT_DIR: runs[1]!.env.REPORT_DIR, cwd: runs[1]!.cwd }, { SEED: '7', REPORT_DIR: '/app/reports', cwd: '' });
    assert.deepEqual(runs[2]!.shell, ['/bin/bash', '-o', 'pipefail', '-c']);
    assert.match(runs[2]!.script, /^set -e\nprintf 'station,threshold\\n' > thresholds\.csv\nfor station/);
    assert.equal(skipped.length, 3);
    assert.match(skipped[2]!, /^environment\/Dockerfile:9: skipped offline \(installs Python packages\): pip install --no-cache-dir pandas==2\.2\.3$/);
    assert.equal(state(task).env.REPORT_DIR, '/app/reports');
    assert.ok(!('SEED' in state(task).env), 'an ARG is not part of the image environment');
  });

  it('deleted files: the setup script is placed and deleted by the replayed build, never left in the work dir', () => {
    const { task } = load('tb2/deleted-setup');
    // The apt-get RUN needed only the network, so nothing of it is left to replay.
    assert.deepEqual(state(task).build.map((s) => s.kind), ['files', 'run']);
    assert.ok(placed(task).has('setup_vault.py'));
    assert.equal(steps(task, 'run')[0]!.script, 'python3 setup_vault.py && rm setup_vault.py');
  });

  it('binary files travel as their exact bytes', () => {
    const db = placed(load('tb2/sqlite-inventory').task).get('inventory.db')!;
    assert.equal(db.text, undefined);
    assert.deepEqual(Buffer.from(db.base64!, 'base64'), readFileSync(join(SUITE, 'tb2/sqlite-inventory/environment/inventory.db')));
    const files = placed(load('tb2/encrypted-note').task);
    assert.deepEqual(Buffer.from(files.get('secure/note.enc')!.base64!, 'base64'), readFileSync(join(SUITE, 'tb2/encrypted-note/environment/note.enc')));
    assert.deepEqual(Buffer.from(files.get('assets/logo.png')!.base64!, 'base64'), readFileSync(join(SUITE, 'tb2/encrypted-note/environment/logo.png')));
  });

  it('absolute paths are left as written, in the instruction, the solution and the tests', () => {
    const { task } = load('tb2/path-manifest');
    assert.equal(state(task).workdir, '/app');
    assert.match(task.instruction, /under \/app\/data/);
    assert.match(String(task.golden.steps[0]!.arguments.content), /find \/app\/data -type f/);
    assert.match(params(task).files['check_manifest.py']!, /Path\("\/app\/manifest\.txt"\)/);
  });

  it('reward.json tasks keep the default pass rule (every key at 1) unless told otherwise', () => {
    assert.deepEqual(params(load('tb2/multi-reward').task).passRule, { require: [], min: {}, default: 1 });
    const relaxed = importTaskFolder(join(SUITE, 'tb2/multi-reward'), { ...options, passRule: { require: ['correctness'], min: { style: 0 }, default: 1 } });
    assert.deepEqual(params(relaxed.task).passRule, { require: ['correctness'], min: { style: 0 }, default: 1 });
  });

  it("long timeouts come from task.toml with no 120 s cap; the caps applied are listed; python is provided as an alias", () => {
    const { task, caps, missing } = load('tb2/long-timeouts');
    assert.equal(task.limits.deadlineMs, 5_400_000);
    assert.equal(params(task).timeoutMs, 2_400_000);
    assert.deepEqual(state(task).timeouts, { agentSec: 5400, verifierSec: 2400, buildSec: 1800 });
    assert.equal(task.golden.steps.at(-1)!.arguments.timeoutSeconds, 5400);
    assert.deepEqual(harborSandboxOptions(task), { workdir: '/app', image: 'python:3.13-slim-bookworm', limits: { timeoutMs: 5_400_000, memoryBytes: 4096 * 1024 * 1024, diskBytes: 2048 * 1024 * 1024 } });
    assert.deepEqual(caps, ['storage 20480 MB capped at 2048 MB (the work dir lives in memory)', 'turns capped at 500 (Harbor limits only time)']);
    assert.deepEqual(missing, { commands: [], pythonModules: [], aliased: ['python → python3'] });
    assert.deepEqual(task.metadata?.caps, caps);
  });

  it('ADD unpacks a tar archive at build time; a tool copied to /usr/local/bin is placed under .image-root and put on PATH', () => {
    const { task } = load('tb2/archive-tools');
    const [unpack] = steps(task, 'unpack');
    assert.deepEqual({ name: unpack!.name, dest: unpack!.dest }, { name: 'site.tar.gz', dest: 'site' });
    assert.deepEqual(Buffer.from(unpack!.base64, 'base64'), readFileSync(join(SUITE, 'tb2/archive-tools/environment/site.tar.gz')));
    assert.equal(placed(task).get('.image-root/usr/local/bin/linkcheck')!.executable, true);
    assert.equal(state(task).env.PATH, '/usr/local/sbin:/app/.image-root/usr/local/bin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin');
    assert.equal(state(task).env.LINKCHECK_FORMAT, 'tsv');
  });

  it('a Terminal-Bench 1 task: task.yaml, run-tests.sh with the harness helpers it does not ship', () => {
    const { task } = load('tb1/log-levels');
    assert.equal(task.id, 'log-levels');
    assert.equal(task.limits.deadlineMs, 360_000);
    const p = params(task);
    assert.equal(p.layout, 'terminal-bench-1');
    assert.equal(p.timeoutMs, 90_000);
    assert.equal(p.files['run-tests.sh'], '#!/bin/bash\n# Terminal-Bench 1 harness helpers (not shipped with the task; the harness provides them).\n# [gauntlet: skipped offline] source $TEST_DIR/setup-uv-pytest.sh\npython3 "$GAUNTLET_TEST_RUNNER" "$TEST_DIR"\n');
    assert.equal(task.golden.steps[0]!.arguments.path, '.harbor-solution/solution.sh');
  });

  it('solution and verifier env, the deprecated memory/storage sizes, a WORKDIR other than /app', () => {
    const { task, caps } = load('cookbook/recipes/greeting-env');
    assert.equal(task.id, 'greeting-env');
    assert.equal(state(task).workdir, '/srv/greet');
    assert.deepEqual(state(task).resources, { memoryMb: 1024, storageMb: 2048 });
    assert.deepEqual(caps, ['turns capped at 500 (Harbor limits only time)']);
    assert.deepEqual(params(task).env, { EXPECTED_GREETING: 'Ahoy, Gauntlet!' });
    assert.match(String(task.golden.steps.at(-1)!.arguments.command), /^env GREETING=Ahoy bash \.harbor-solution\/solve\.sh;/);
  });
});

describe('importing folders of tasks', () => {
  it('recurses into sub-folders of either layout, keeping original names as ids, and rejects what cannot run offline', () => {
    const result = importTaskDirectory(FIXTURES, options);
    assert.deepEqual(result.imported.map((i) => i.task.id), [
      'legacy-greeting',
      'greeting-env',
      'log-levels',
      'gauntlet-fixtures/archive-tools',
      'gauntlet-fixtures/build-steps',
      'gauntlet-fixtures/deleted-setup',
      'gauntlet-fixtures/encrypted-note',
      'gauntlet-fixtures/long-timeouts',
      'gauntlet-fixtures/multi-reward',
      'gauntlet-fixtures/path-manifest',
      'gauntlet-fixtures/sqlite-inventory',
      'tb1-sales-total',
      'gauntlet-fixtures/tb2-word-count',
    ]);
    assert.deepEqual(result.rejected.map((r) => r.dir), [join(FIXTURES, 'rejected-prebuilt-gpu')]);
    const out = join(scratch, 'out', 'harbor.yaml');
    const tasks = result.imported.map((i) => i.task);
    writeTasksYaml(tasks, out);
    assert.deepEqual(loadTaskFile(out), tasks);
  });

  it('a second task with the same name is rejected, naming the first', () => {
    const task = { 'task.toml': 'version = "1.0"\n[task]\nname = "org/same"\n', 'instruction.md': 'x', 'environment/Dockerfile': 'FROM ubuntu:24.04\nWORKDIR /app\n', 'solution/solve.sh': 'true\n', 'tests/test.sh': 'echo 1 > /logs/verifier/reward.txt\n' };
    const root = join(scratch, 'dupes');
    folder('dupes/a/one', task);
    folder('dupes/b/two', task);
    const result = importTaskDirectory(root, options);
    assert.deepEqual(result.imported.map((i) => i.task.id), ['org/same']);
    assert.deepEqual(result.rejected, [{ dir: join(root, 'b', 'two'), reasons: [`duplicate task id org/same (already imported from ${join(root, 'a', 'one')})`] }]);
  });

  it('imports a task with only a prebuilt image when asked, to run only where sandboxes run images', () => {
    const dir = folder('prebuilt', {
      'task.toml': 'schema_version = "1.1"\n[task]\nname = "org/prebuilt"\n[environment]\ndocker_image = "registry.example/org/tool:1"\n',
      'instruction.md': 'Write the answer to answer.txt.',
      'solution/solve.sh': 'echo 42 > /app/answer.txt\n',
      'tests/test.sh': 'grep -qx 42 /app/answer.txt && echo 1 > /logs/verifier/reward.txt || echo 0 > /logs/verifier/reward.txt\n',
    });
    assert.throws(() => importTaskFolder(dir, options), /prebuilt image registry\.example\/org\/tool:1 and ships no Dockerfile.*--prebuilt-images/);
    // Nothing of this machine is asked about: the image is the task's system.
    const nothing: SandboxProbe = { hasCommand: () => false, missingPythonModules: (modules) => [...modules] };
    const imported = importTaskFolder(dir, { probe: nothing, prebuiltImages: true });
    assert.deepEqual(harborSandboxOptions(imported.task), { workdir: '/app', image: 'registry.example/org/tool:1', imageOnly: true, limits: harborSandboxOptions(imported.task).limits });
    assert.deepEqual(state(imported.task).build, []);
    assert.deepEqual(imported.missing, { commands: [], pythonModules: [], aliased: [] });
    assert.ok(imported.adaptations.some((a) => /runs only on sandboxes that run images \(--sandbox k8s\)/.test(a)), imported.adaptations.join('\n'));
    assert.ok(imported.adaptations.some((a) => /WORKDIR is unknown at import; \/app assumed/.test(a)));
  });

  it('rejects a task that cannot run offline, listing every reason', () => {
    assert.throws(
      () => importTaskFolder(join(FIXTURES, 'rejected-prebuilt-gpu'), options),
      (error: unknown) => {
        assert.ok(error instanceof TaskRejected);
        assert.ok(error instanceof InputError);
        assert.deepEqual(error.reasons, [
          'the task needs 1 GPU(s); sandboxes have none',
          'the task uses the prebuilt image example.invalid/gauntlet/cuda-trainer:2026 and ships no Dockerfile; its contents cannot be reproduced offline (import with --prebuilt-images to run it only on --sandbox k8s)',
          'tests/test.sh:2: runs docker, which needs Docker or a service manager, not available in a sandbox',
        ]);
        return true;
      },
    );
  });

  it('rejects python tests when the sandbox has no python3, and lists the commands and modules it lacks', () => {
    const bare: SandboxProbe = { hasCommand: () => false, missingPythonModules: (m) => m };
    assert.throws(() => importTaskFolder(join(FIXTURES, 'tb2-word-count'), { probe: bare }), /the tests need python3, which the sandbox does not have/);
    const partial: SandboxProbe = { hasCommand: (name) => !['jq', 'python'].includes(name), missingPythonModules: (m) => m.filter((x) => x === 'numpy') };
    const dir = folder('gaps', {
      'task.toml': 'version = "1.0"\n',
      'instruction.md': 'do it',
      'environment/Dockerfile': 'FROM python:3.12\nWORKDIR /app\nCOPY helper.py /app/helper.py\n',
      'environment/helper.py': 'X = 1\n',
      'solution/solve.sh': 'jq . data.json > out.json\npython -c "print(1)"\n',
      'tests/test.sh': 'python3 -m pytest /tests/test_x.py -rA\nif [ $? -eq 0 ]; then echo 1 > /logs/verifier/reward.txt; else echo 0 > /logs/verifier/reward.txt; fi\n',
      'tests/test_x.py': 'import json\nimport numpy as np\nimport helper\nfrom conftest_local import x\n',
      'tests/conftest_local.py': 'x = 1\n',
    });
    assert.deepEqual(importTaskFolder(dir, { probe: partial }).missing, { commands: ['jq'], pythonModules: ['numpy'], aliased: ['python → python3'] });
  });
});

describe('bad task folders get errors naming the file and what was expected', () => {
  it('invalid TOML names the file and line', () => {
    const dir = folder('bad-toml', { 'task.toml': 'schema_version = "1.1"\n[agent\ntimeout_sec = 1\n', 'instruction.md': 'x' });
    assert.throws(() => importTaskFolder(dir, options), (e: unknown) => e instanceof InputError && e.message.startsWith(`${join(dir, 'task.toml')}:2: not valid TOML`));
  });

  it('a task.toml without schema_version or version says which key is expected', () => {
    const dir = folder('no-version', { 'task.toml': '[agent]\ntimeout_sec = 10\n', 'instruction.md': 'x' });
    assert.throws(() => importTaskFolder(dir, options), /task\.toml: invalid task config\n\(root\): expected schema_version = "1\.1"/);
  });

  it('a wrongly typed field, or a size that is not one, is named', () => {
    const dir = folder('bad-field', { 'task.toml': 'version = "1.0"\n[agent]\ntimeout_sec = "soon"\n', 'instruction.md': 'x' });
    assert.throws(() => importTaskFolder(dir, options), /agent\.timeout_sec: .*number/);
    const size = folder('bad-size', { 'task.toml': 'version = "1.0"\n[environment]\nmemory = "lots"\n', 'instruction.md': 'x' });
    assert.throws(() => importTaskFolder(size, options), /environment\.memory: .*a size such as "2G"/);
  });

  it('a folder with neither config is not a task folder', () => {
    const dir = folder('empty', { 'notes.txt': 'x' });
    assert.throws(() => importTaskFolder(dir, options), /not a task folder \(expected task\.toml \(Harbor \/ Terminal-Bench 2\) or task\.yaml \(Terminal-Bench 1\)\)/);
  });

  it('a Dockerfile without WORKDIR, a missing solution and a network ADD are all reported', () => {
    const dir = folder('no-workdir', {
      'task.toml': 'version = "1.0"\n',
      'instruction.md': 'do it',
      'environment/Dockerfile': 'FROM ubuntu:24.04\nADD https://example.invalid/data.csv /data.csv\n',
      'tests/test.sh': 'test -f /data.csv\n',
    });
    assert.throws(
      () => importTaskFolder(dir, options),
      (e: unknown) =>
        e instanceof TaskRejected &&
        e.reasons.join('\n') ===
          [
            'environment/Dockerfile:2: ADD https://example.invalid/data.csv fetches from the network',
            'the Dockerfile sets no WORKDIR (expected e.g. `WORKDIR /app`, the folder the tests run in)',
            'no solution/solve.sh: a golden solution is needed to prove the task solvable',
          ].join('\n'),
    );
  });

  it('adapts helper scripts shipped beside test.sh (a migrated Terminal-Bench 1 task)', () => {
    const dir = folder('migrated-tb1', {
      'task.toml': 'version = "1.0"\n',
      'instruction.md': 'do it',
      'environment/Dockerfile': 'FROM ubuntu:24.04\nWORKDIR /app\n',
      'solution/solve.sh': 'true\n',
      'tests/test.sh': 'source $TEST_DIR/setup-uv-pytest.sh\nuv add numpy==2.3.1\nbash $TEST_DIR/run-uv-pytest.sh\n',
      'tests/setup-uv-pytest.sh': 'curl -LsSf https://astral.sh/uv/install.sh | sh\nsource $HOME/.local/bin/env\nuv init\nuv add pytest==8.4.1\n',
      'tests/run-uv-pytest.sh': 'uv run pytest $TEST_DIR/test_outputs.py -rA\n',
      'tests/test_outputs.py': 'def test_ok():\n    assert True\n',
    });
    const files = params(importTaskFolder(dir, options).task).files;
    assert.equal(files['test.sh'], 'source $TEST_DIR/setup-uv-pytest.sh\n# [gauntlet: skipped offline] uv add numpy==2.3.1\nbash $TEST_DIR/run-uv-pytest.sh\n');
    assert.equal(files['run-uv-pytest.sh'], 'python3 "$GAUNTLET_TEST_RUNNER" $TEST_DIR/test_outputs.py\n');
    assert.ok(files['setup-uv-pytest.sh']!.split('\n').filter(Boolean).every((line) => line.startsWith('# [gauntlet: skipped offline]')));
  });

  it('a test script that does nothing once offline is rejected', () => {
    const dir = folder('only-network', {
      'task.toml': 'version = "1.0"\n',
      'instruction.md': 'do it',
      'environment/Dockerfile': 'FROM ubuntu:24.04\nWORKDIR /app\n',
      'solution/solve.sh': 'true\n',
      'tests/test.sh': 'curl -fsS https://example.invalid/grade.sh | bash\n',
    });
    assert.throws(() => importTaskFolder(dir, options), /tests\/test\.sh runs no tests once its network-fetching lines are skipped/);
  });
});
