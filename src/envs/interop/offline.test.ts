// The pieces of an offline import: shell adaptation, path mapping, Dockerfile reading, image gaps.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { adaptTestScript } from './adapt-script.ts';
import { failingTests } from './checks.ts';
import { readDockerfile, type DockerStep } from './dockerfile.ts';
import { commandsUsed, embeddedPython, imageGaps, pythonImports, withAliases } from './image.ts';
import { mapPaths } from './paths.ts';

const scratch = mkdtempSync(join(tmpdir(), 'gauntlet-offline-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

function context(name: string, files: Record<string, string | Buffer>): string {
  const dir = join(scratch, name);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return dir;
}

function read(dir: string) {
  return readDockerfile({ path: join(dir, 'Dockerfile'), context: dir, where: 'Dockerfile' });
}

function copies(steps: DockerStep[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const step of steps) {
    if (step.kind !== 'copy') continue;
    for (const [path, file] of step.files) out.set(path, 'text' in file.content ? file.content.text : `<${file.content.bytes.length} bytes>`);
  }
  return out;
}

describe('reading a Dockerfile into build steps', () => {
  it('takes the last stage\'s base image, following a stage named by an earlier FROM … AS', () => {
    const image = (lines: string[], name: string) => read(context(name, { Dockerfile: lines.join('\n') })).baseImage;
    assert.equal(image(['FROM --platform=linux/amd64 python:3.12-slim AS base', 'WORKDIR /app'], 'stage-platform'), 'python:3.12-slim');
    assert.equal(image(['FROM debian:bookworm AS build', 'RUN true', 'FROM python:3.12 AS final', 'WORKDIR /app'], 'stage-last'), 'python:3.12');
    assert.equal(image(['FROM ubuntu:24.04 AS Base', 'RUN true', 'FROM base', 'WORKDIR /app'], 'stage-named'), 'ubuntu:24.04');
  });

  it('reads COPY of directories, globs and heredocs in order, and refuses COPY --from', () => {
    const dir = context('docker', {
      Dockerfile: [
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
    const image = read(dir);
    assert.equal(image.workdir, '/srv/app');
    assert.deepEqual(image.steps.map((s) => s.kind), ['workdir', 'copy', 'copy', 'copy']);
    assert.deepEqual([...copies(image.steps).keys()], ['/srv/app/src/lib/util.py', '/srv/app/src/main.py', '/etc/tool/a.ini', '/srv/app/notes.md']);
    assert.equal(copies(image.steps).get('/srv/app/notes.md'), 'hello\n');
    assert.deepEqual(image.problems, ['Dockerfile:9: COPY --from=builder copies from another image or build stage, which needs Docker']);
  });

  it('carries binary files as bytes and keeps the executable bit (from the file or --chmod)', () => {
    const dir = context('binary', {
      Dockerfile: 'FROM ubuntu:24.04\nWORKDIR /app\nCOPY blob.bin run.sh ./\nCOPY --chmod=0755 tool /usr/local/bin/tool\n',
      'blob.bin': Buffer.from([0, 1, 2, 255]),
      'run.sh': '#!/bin/sh\necho hi\n',
      tool: '#!/bin/sh\n',
    });
    chmodSync(join(dir, 'run.sh'), 0o755);
    const files = new Map(read(dir).steps.flatMap((s) => (s.kind === 'copy' ? [...s.files] : [])));
    assert.deepEqual(files.get('/app/blob.bin')!.content, { bytes: Buffer.from([0, 1, 2, 255]) });
    assert.deepEqual(
      [...files].map(([path, f]) => [path, f.executable]),
      [['/app/blob.bin', false], ['/app/run.sh', true], ['/usr/local/bin/tool', true]],
    );
  });

  it('gives each RUN the ARG and ENV values set before it, the SHELL in force and its working directory', () => {
    const dir = context('run', {
      Dockerfile: [
        'FROM ubuntu:24.04',
        'ARG LEVEL=3',
        'ENV DATA=/data PATH=/opt/tool/bin:$PATH',
        'WORKDIR /app',
        'RUN --mount=type=cache,target=/root/.cache echo "$LEVEL" > level.txt',
        'SHELL ["/bin/bash", "-c"]',
        'RUN ["python3", "-c", "print(\'x y\')"]',
        'ENV DATA=/data2',
      ].join('\n'),
    });
    const image = read(dir);
    const runs = image.steps.filter((s): s is Extract<DockerStep, { kind: 'run' }> => s.kind === 'run');
    assert.deepEqual(runs.map((r) => [r.script, r.shell, r.cwd]), [
      ['echo "$LEVEL" > level.txt', ['/bin/sh', '-c'], '/app'],
      [`python3 -c 'print('\\''x y'\\'')'`, ['/bin/bash', '-c'], '/app'],
    ]);
    assert.equal(runs[0]!.env.LEVEL, '3');
    assert.equal(runs[0]!.env.PATH, '/opt/tool/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin');
    assert.deepEqual(image.env, { PATH: '/opt/tool/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', DATA: '/data2' });
    assert.deepEqual(image.adaptations, ['Dockerfile:5: RUN options ignored (--mount=type=cache,target=/root/.cache)']);
  });

  it('honours .dockerignore: what it excludes is not copied, and ! patterns take paths back', () => {
    const dir = context('ignore', {
      Dockerfile: 'FROM ubuntu:24.04\nWORKDIR /app\nCOPY . /app/\n',
      '.dockerignore': '# keep answers out\nsolution\n**/*.log\n!logs/keep.log\n',
      'solution/answer.txt': '42\n',
      'data.csv': 'a\n',
      'logs/debug.log': 'x\n',
      'logs/keep.log': 'y\n',
    });
    assert.deepEqual([...copies(read(dir).steps).keys()], ['/app/.dockerignore', '/app/data.csv', '/app/Dockerfile', '/app/logs/keep.log']);
  });

  it('ADD unpacks local tar archives and copies anything else as it is', () => {
    const dir = context('add', { Dockerfile: 'FROM ubuntu:24.04\nWORKDIR /app\nADD data.tar.gz /app/data/\nADD bundle.zip /app/\n', 'data.tar.gz': Buffer.from([31, 139, 8]), 'bundle.zip': Buffer.from([80, 75, 3, 4]) });
    const image = read(dir);
    assert.deepEqual(image.steps.map((s) => s.kind), ['workdir', 'unpack', 'copy']);
    const unpack = image.steps[1] as Extract<DockerStep, { kind: 'unpack' }>;
    assert.deepEqual({ name: unpack.name, dest: unpack.dest }, { name: 'data.tar.gz', dest: '/app/data' });
    assert.deepEqual([...copies(image.steps).keys()], ['/app/bundle.zip']);
  });
});

describe('offline adaptation of scripts', () => {
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

  it('in a build script, pytest is left alone and only network commands go', () => {
    const adapted = adaptTestScript('pip install -r req.txt && pytest -q tests\n', { where: 'Dockerfile', testsDirVariable: '/tests', shipped: [], build: true });
    assert.equal(adapted.text, 'true && pytest -q tests\n');
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
});

describe('what the sandbox lacks, and the aliases it gets', () => {
  it('finds the commands a script runs by name: not builtins, paths, its own functions, or words inside strings', () => {
    const script = ["check() { test -f \"$1\"; }", 'if [ -f x ]; then', '  jq . a.json | sort -u', 'fi', 'FOO=1 python3 -m app', "python -c 'import os", "print(os.sep)'", './local.sh', '/usr/bin/env true', 'check data'].join('\n');
    assert.deepEqual(commandsUsed(script), ['jq', 'python', 'python3', 'sort']);
  });

  it('finds the top-level modules a Python file imports', () => {
    assert.deepEqual(pythonImports('import os, json\nimport numpy as np\nfrom scipy.stats import norm\nfrom . import sibling\nimport _private\n    import yaml\n'), ['json', 'numpy', 'os', 'scipy', 'yaml']);
  });

  it('reports missing commands and modules, minus what the task brings, its own modules, aliases and pytest', () => {
    const gaps = imageGaps(
      { scripts: ['jq . x\nmytool --go\npython run.py\nnode app.js'], pythonSources: ['import numpy\nimport helpers\nimport pytest\nimport requests'] },
      {
        probe: { hasCommand: (name) => name === 'python3', missingPythonModules: (m) => m.filter((x) => x !== 'requests') },
        aliases: { python: 'python3' },
        provided: new Set(['mytool']),
        localModules: new Set(['helpers']),
      },
    );
    assert.deepEqual(gaps, { commands: ['jq', 'node'], pythonModules: ['numpy'], aliased: ['python → python3'] });
  });

  it('puts the alias links before the command on its first line, so error line numbers stay right', () => {
    const command = withAliases('ls\nfalse', { python: 'python3' });
    assert.equal(command.split('\n').length, 2);
    assert.match(command, /^if ! command -v python >\/dev\/null 2>&1 && t=\$\(command -v python3 2>\/dev\/null\); then .*; export PATH="\/tmp\/\.gauntlet-image-bin:\$PATH"; unset t; ls\nfalse$/);
    assert.equal(withAliases('ls', {}), 'ls');
  });
});

describe('python inside shell scripts', () => {
  it('finds python -c snippets and here-documents fed to python', () => {
    const script = `python3 -c "import json; import numpy as np; print(1)"\npython - <<'PY'\nfrom pandas import DataFrame\nPY\necho done\n`;
    assert.deepEqual(embeddedPython(script), ['import json\nimport numpy as np\nprint(1)', 'from pandas import DataFrame']);
    assert.deepEqual(pythonImports(embeddedPython(script).join('\n')), ['json', 'numpy', 'pandas']);
  });
});
