import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { InputError } from '../../core/index.ts';
import { loadTaskFile } from '../tasks.ts';
import { adaptTestScript } from './adapt-script.ts';
import { failingTests, HarborTestsParams } from './checks.ts';
import { readDockerfile } from './dockerfile.ts';
import { importTaskDirectory, importTaskFolder, TaskRejected } from './harbor.ts';
import { mapPaths } from './paths.ts';
import { writeTasksYaml } from './tasks-yaml.ts';

const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/harbor/', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'gauntlet-interop-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** Writes a task folder from `{ relative path: content }` and returns its path. */
function folder(name: string, files: Record<string, string>): string {
  const dir = join(scratch, name);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return dir;
}

function harborParams(task: { verifier: Record<string, unknown> }): HarborTestsParams {
  const checks = task.verifier.checks as Record<string, unknown>[];
  assert.equal(checks.length, 1);
  assert.equal(checks[0]!.check, 'harbor_tests');
  return HarborTestsParams.parse(checks[0]);
}

describe('importing a Harbor / Terminal-Bench 2 task (schema_version 1.1)', () => {
  const { task, adaptations } = importTaskFolder(join(FIXTURES, 'tb2-word-count'), { python: true });

  it('makes a terminal task named after the task, with tags, limits and the instruction in sandbox paths', () => {
    assert.equal(task.id, 'harbor/tb2-word-count');
    assert.equal(task.env, 'terminal');
    assert.deepEqual(task.tags, { domain: 'file-operations', difficulty: 'easy', labels: ['text', 'coreutils', 'wc', 'counting'] });
    assert.equal(task.limits.deadlineMs, 300_000);
    assert.match(task.instruction, /^The file \/work\/notes\.txt holds/);
    assert.ok(!task.instruction.includes('/app'));
  });

  it('places the files the Dockerfile copies into the WORKDIR, relative to the work dir, and others under .image-root', () => {
    assert.deepEqual(Object.keys(task.initialState.files as object).sort(), ['.image-root/opt/wordcount/reference/expected.txt', 'README.md', 'notes.txt']);
    assert.deepEqual(harborParams(task).imagePaths, { '/opt/wordcount/reference': '.image-root/opt/wordcount/reference' });
    assert.ok(adaptations.includes("/opt/wordcount/reference placed at .image-root/opt/wordcount/reference in the work dir (the sandbox's one writable folder); paths to it are rewritten"));
    assert.equal((task.initialState.files as Record<string, string>)['README.md'], 'Notes live in /work/notes.txt; results go beside them.\n');
  });

  it('keeps the tests out of the initial state and adapts test.sh: network lines skipped, uvx pytest replaced by the runner', () => {
    const params = harborParams(task);
    assert.equal(params.containerWorkdir, '/app');
    assert.equal(params.script, 'test.sh');
    assert.equal(params.timeoutMs, 120_000);
    assert.deepEqual(Object.keys(params.files).sort(), ['test.sh', 'test_outputs.py']);
    const script = params.files['test.sh']!;
    assert.match(script, /^# \[gauntlet: skipped offline\] apt-get install -y curl$/m);
    assert.match(script, /^python3 "\$GAUNTLET_TEST_RUNNER" \/tests\/test_outputs\.py$/m);
    assert.match(script, /echo 1 > \/logs\/verifier\/reward\.txt/);
    assert.ok(!JSON.stringify(task.initialState).includes('test_count_is_right'));
  });

  it('records every adaptation in the result and in metadata', () => {
    assert.deepEqual(task.metadata?.adaptations, adaptations);
    const all = adaptations.join('\n');
    assert.match(all, /environment\/Dockerfile:3: RUN not replayed \(installs packages/);
    assert.match(all, /tests\/test\.sh:4: skipped offline \(downloads from the network\): curl/);
    assert.match(all, /tests\/test\.sh:7: pytest via uvx replaced by Gauntlet's test runner.*options dropped: --ctrf \/logs\/verifier\/ctrf\.json -rA/);
    assert.match(all, /base image python:3\.13-slim-bookworm not used/);
  });

  it('golden steps write solve.sh into the sandbox and run it with the terminal tools', () => {
    assert.deepEqual(task.golden.steps.map((s) => s.tool), ['write_file', 'run_command']);
    assert.equal(task.golden.steps[0]!.arguments.path, '.harbor-solution/solve.sh');
    assert.match(String(task.golden.steps[0]!.arguments.content), /wc -w < \/work\/notes\.txt/);
    assert.match(String(task.golden.steps[1]!.arguments.command), /^bash \.harbor-solution\/solve\.sh; status=\$\?; rm -rf \.harbor-solution; exit \$status$/);
  });
});

describe('importing other layouts', () => {
  it('reads the legacy `version = "1.0"` task.toml, with no difficulty (medium, noted) and a non-/app WORKDIR', () => {
    const { task, adaptations } = importTaskFolder(join(FIXTURES, 'legacy-greeting'), { python: true });
    assert.equal(task.id, 'harbor/legacy-greeting');
    assert.deepEqual(task.tags, { domain: 'terminal', difficulty: 'medium', labels: [] });
    assert.equal(task.limits.deadlineMs, 120_000);
    assert.equal(harborParams(task).containerWorkdir, '/srv/site');
    assert.ok(adaptations.includes('no difficulty given; imported as medium'));
    assert.equal(task.instruction, 'Create a file called greeting.txt in /work whose only line is: Hello, Gauntlet!');
  });

  it('reads a Terminal-Bench 1 task.yaml with run-tests.sh and tests/', () => {
    const { task, adaptations } = importTaskFolder(join(FIXTURES, 'tb1-sales-total'), { python: true });
    assert.equal(task.id, 'harbor/tb1-sales-total');
    assert.deepEqual(task.tags, { domain: 'data-processing', difficulty: 'medium', labels: ['csv', 'awk'] });
    assert.equal(task.limits.deadlineMs, 240_000);
    assert.deepEqual(task.initialState.files, { 'data/sales.csv': 'region,amount\nnorth,120\nsouth,40\nnorth,30\neast,75\nsouth,10\n' });
    const params = harborParams(task);
    assert.equal(params.script, 'run-tests.sh');
    assert.equal(params.timeoutMs, 60_000);
    assert.match(params.files['run-tests.sh']!, /^python3 "\$GAUNTLET_TEST_RUNNER" \$TEST_DIR\/test_outputs\.py$/m);
    assert.ok(adaptations.includes('difficulty "intermediate" is not easy/medium/hard; imported as medium'));
    assert.ok(adaptations.some((a) => a.startsWith('run-tests.sh:2: skipped offline (installs Python packages): pip install pytest==8.3.4')));
    assert.equal(task.golden.steps[0]!.arguments.path, '.harbor-solution/solution.sh');
  });

  it('rejects a task that cannot run offline, listing every reason', () => {
    assert.throws(
      () => importTaskFolder(join(FIXTURES, 'rejected-prebuilt-gpu'), { python: true }),
      (error: unknown) => {
        assert.ok(error instanceof TaskRejected);
        assert.ok(error instanceof InputError);
        assert.deepEqual(error.reasons, [
          'the task needs 1 GPU(s); sandboxes have none',
          'the task uses the prebuilt image example.invalid/gauntlet/cuda-trainer:2026 and ships no Dockerfile; its contents cannot be reproduced offline',
          'tests/test.sh:2: runs docker, which needs Docker or a service manager, not available in a sandbox',
        ]);
        return true;
      },
    );
  });

  it('rejects python tests when the sandbox has no python3', () => {
    assert.throws(() => importTaskFolder(join(FIXTURES, 'tb2-word-count'), { python: false }), /the tests need python3, which the sandbox does not have/);
  });

  it('imports a folder of task folders, reporting successes and rejections, and writes a task file that loads back', () => {
    const result = importTaskDirectory(FIXTURES, { python: true });
    assert.deepEqual(result.imported.map((i) => i.task.id), ['harbor/legacy-greeting', 'harbor/tb1-sales-total', 'harbor/tb2-word-count']);
    assert.deepEqual(result.rejected.map((r) => r.dir), [join(FIXTURES, 'rejected-prebuilt-gpu')]);
    const out = join(scratch, 'out', 'harbor.yaml');
    const tasks = result.imported.map((i) => i.task);
    writeTasksYaml(tasks, out);
    assert.deepEqual(loadTaskFile(out), tasks);
  });
});

describe('bad task folders get errors naming the file and what was expected', () => {
  it('invalid TOML names the file and line', () => {
    const dir = folder('bad-toml', { 'task.toml': 'schema_version = "1.1"\n[agent\ntimeout_sec = 1\n', 'instruction.md': 'x' });
    assert.throws(() => importTaskFolder(dir), (e: unknown) => e instanceof InputError && e.message.startsWith(`${join(dir, 'task.toml')}:2: not valid TOML`));
  });

  it('a task.toml without schema_version or version says which key is expected', () => {
    const dir = folder('no-version', { 'task.toml': '[agent]\ntimeout_sec = 10\n', 'instruction.md': 'x' });
    assert.throws(() => importTaskFolder(dir), /task\.toml: invalid task config\n\(root\): expected schema_version = "1\.1"/);
  });

  it('a wrongly typed field is named', () => {
    const dir = folder('bad-field', { 'task.toml': 'version = "1.0"\n[agent]\ntimeout_sec = "soon"\n', 'instruction.md': 'x' });
    assert.throws(() => importTaskFolder(dir), /agent\.timeout_sec: .*number/);
  });

  it('a folder with neither config is not a task folder', () => {
    const dir = folder('empty', { 'notes.txt': 'x' });
    assert.throws(() => importTaskFolder(dir), /not a task folder \(expected task\.toml \(Harbor \/ Terminal-Bench 2\) or task\.yaml \(Terminal-Bench 1\)\)/);
  });

  it('a Dockerfile without WORKDIR, a missing solution and a network ADD are all reported', () => {
    const dir = folder('no-workdir', {
      'task.toml': 'version = "1.0"\n',
      'instruction.md': 'do it',
      'environment/Dockerfile': 'FROM ubuntu:24.04\nADD https://example.invalid/data.csv /data.csv\n',
      'tests/test.sh': 'test -f /data.csv\n',
    });
    assert.throws(
      () => importTaskFolder(dir, { python: true }),
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
    const { task } = importTaskFolder(dir, { python: true });
    const files = harborParams(task).files;
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
    assert.throws(() => importTaskFolder(dir, { python: true }), /tests\/test\.sh runs no tests once its network-fetching lines are skipped/);
  });
});

describe('offline adaptation pieces', () => {
  it('maps container paths only as whole path components', () => {
    const mapping = [['/app', '/work'], ['/tests', '/work/.harbor/tests']] as const;
    assert.equal(
      mapPaths('cat /app/x "/app" /apple /usr/app /app-data ./app /tests/t.py $X/app ${T:-/tests}', mapping),
      'cat /work/x "/work" /apple /usr/app /app-data ./app /work/.harbor/tests/t.py $X/app ${T:-/work/.harbor/tests}',
    );
  });

  it('leaves heredoc bodies, local curls and conditionals intact while skipping network commands', () => {
    const script = [
      'if ! command -v uv; then curl -Ls https://x.invalid/i.sh | sh; fi',
      "python3 - <<'PY'",
      'import subprocess  # apt-get install inside a heredoc is data',
      'PY',
      'curl -fsS http://localhost:8080/health',
      'python -m pytest tests/test_api.py -k smoke > out.log 2>&1',
    ].join('\n');
    const adapted = adaptTestScript(script, { where: 't.sh', testsDirVariable: '/tests', shipped: [] });
    assert.equal(
      adapted.text,
      [
        'if ! command -v uv; then true; fi',
        "python3 - <<'PY'",
        'import subprocess  # apt-get install inside a heredoc is data',
        'PY',
        'curl -fsS http://localhost:8080/health',
        'python3 "$GAUNTLET_TEST_RUNNER" tests/test_api.py > out.log 2>&1',
      ].join('\n'),
    );
    assert.deepEqual(adapted.problems, []);
    assert.equal(adapted.runsTests, true);
  });

  it('skips activating a virtualenv whose uv creation was skipped, and uv run pytest becomes the runner', () => {
    const script = 'set -e\nuv venv .tbench-testing\nsource .tbench-testing/bin/activate\nuv pip install pytest==8.4.1\nuv run -p 3.12 pytest /tests -rA\n';
    const adapted = adaptTestScript(script, { where: 'test.sh', testsDirVariable: '/tests', shipped: [] });
    assert.equal(
      adapted.text,
      [
        'set -e',
        '# [gauntlet: skipped offline] uv venv .tbench-testing',
        '# [gauntlet: skipped offline] source .tbench-testing/bin/activate',
        '# [gauntlet: skipped offline] uv pip install pytest==8.4.1',
        'python3 "$GAUNTLET_TEST_RUNNER" /tests',
        '',
      ].join('\n'),
    );
    assert.match(adapted.adaptations[1]!, /^test\.sh:3: skipped offline \(activates a virtualenv whose creation was skipped\)/);
  });

  it("reads failing tests from pytest's -rA summary and the built-in runner alike", () => {
    const pytest = [
      'PASSED ../../work/.harbor/tests/test_outputs.py::test_header',
      'FAILED /work/.harbor/tests/test_outputs.py::test_sorted - AssertionError: assert [...] == [...]',
      'ERROR /work/.harbor/tests/test_io.py - ModuleNotFoundError: No module named requests',
      '==== 1 failed, 1 passed, 1 error in 0.12s ====',
    ].join('\n');
    assert.deepEqual(failingTests(pytest, ['/work/.harbor/tests/']), [
      'test_outputs.py::test_sorted (AssertionError: assert [...] == [...])',
      'test_io.py (ModuleNotFoundError: No module named requests)',
    ]);
    assert.deepEqual(failingTests('FAILED .harbor/tests/t.py::test_a[1-2] - AssertionError at t.py:3: assert a == b', ['.harbor/tests/']), ['t.py::test_a[1-2] (AssertionError at t.py:3: assert a == b)']);
  });

  it('reads COPY of directories, globs and heredocs from a Dockerfile, and refuses COPY --from', () => {
    const dir = folder('docker', {
      'Dockerfile': [
        'FROM python:3.12',
        'ARG APP=/srv/app',
        'WORKDIR $APP',
        'COPY src/ ./src/',
        'COPY conf/*.ini /etc/tool/',
        'COPY <<EOF notes.md',
        'hello',
        'EOF',
        'COPY --from=builder /out/bin /usr/local/bin/tool',
      ].join('\n'),
      'src/main.py': 'print(1)\n',
      'src/lib/util.py': 'X = 1\n',
      'conf/a.ini': '[a]\n',
      'conf/b.txt': 'no\n',
    });
    const image = readDockerfile({ path: join(dir, 'Dockerfile'), context: dir, where: 'Dockerfile' });
    assert.equal(image.workdir, '/srv/app');
    assert.deepEqual([...image.files.keys()].sort(), ['/etc/tool/a.ini', '/srv/app/notes.md', '/srv/app/src/lib/util.py', '/srv/app/src/main.py']);
    assert.equal(image.files.get('/srv/app/notes.md'), 'hello\n');
    assert.deepEqual(image.problems, ['Dockerfile:9: COPY --from=builder copies from another image or build stage, which needs Docker']);
  });
});
