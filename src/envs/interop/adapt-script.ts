// Adapts a task's test script (Harbor tests/test.sh, TB1 run-tests.sh) to run offline: commands that
// fetch from the network are skipped, pytest launches (uvx/uv run/python -m/direct) become
// Gauntlet's runner, which uses pytest when it is importable and a small built-in runner otherwise.
import { commandWords, dockerReason, findPytest, networkReason, pytestTargets } from './offline.ts';
import { baseName, joinLogicalLines, pipelinesOf, replaceSpans, splitLogicalLines, unquote } from './shell.ts';

/** The variable the check sets to the runner's path in the sandbox. */
export const RUNNER_VARIABLE = 'GAUNTLET_TEST_RUNNER';
const RUNNER = `python3 "$${RUNNER_VARIABLE}"`;

export interface AdaptedScript {
  text: string;
  adaptations: string[];
  /** Reasons the script cannot run in a sandbox at all. */
  problems: string[];
  /** The adapted script still runs tests: the runner, commands of its own, or nothing was skipped. */
  runsTests: boolean;
  usesPython: boolean;
}

/** Commands that set up or report but test nothing by themselves. */
const TRIVIAL = new Set(['set', 'cd', 'echo', 'printf', 'mkdir', 'export', 'exit', 'true', ':', 'source', '.', '[', '[[', 'test', 'fi', 'done', 'esac', '}', 'return', 'shopt', 'trap', 'unset', 'local', 'chmod', 'rm', 'ls', 'cat', 'sleep', 'wait']);

/** TB1 scripts call helpers its harness provided; when the task does not ship them we stand in. */
const TB1_HELPERS: Record<string, 'runner' | 'skip'> = { 'run-uv-pytest.sh': 'runner', 'setup-uv-pytest.sh': 'skip' };

function normaliseDir(path: string): string {
  return path.replace(/^\.\//, '').replace(/\/+$/, '');
}

/** Activating a virtualenv whose (network) creation was skipped. */
function skippedVenvReason(words: string[], venvs: Set<string>): string | null {
  if (!['source', '.'].includes(words[0] ?? '')) return null;
  const match = /^(.*)\/bin\/activate$/.exec(words[1] ?? '');
  return match && venvs.has(normaliseDir(match[1]!)) ? 'activates a virtualenv whose creation was skipped' : null;
}

function shorten(text: string): string {
  const one = text.replace(/\s*\\\n\s*/g, ' ').trim();
  return one.length > 160 ? `${one.slice(0, 157)}...` : one;
}

/**
 * `where` names the script for messages (`tests/test.sh`); `shipped` lists the file names in the
 * tests folder, so helper scripts the task ships itself are left alone. `build` adapts a
 * Dockerfile RUN script: network commands are skipped, test launches are left as they are.
 */
export function adaptTestScript(text: string, options: { where: string; testsDirVariable: string; shipped: string[]; build?: boolean }): AdaptedScript {
  const { where, testsDirVariable, shipped } = options;
  const runners = !options.build;
  const adaptations: string[] = [];
  const problems: string[] = [];
  let runsTests = false;
  let skippedAny = false;
  const venvs = new Set<string>();
  let usesPython = /\bpython3?\b|\bpytest\b/.test(text);
  const lines = splitLogicalLines(text);
  for (const line of lines) {
    const pipelines = pipelinesOf(line.text);
    const edits: { start: number; end: number; text: string }[] = [];
    let skipped = 0;
    for (const pipeline of pipelines) {
      // A pytest launch is rewritten below even when its launcher (uvx) would fetch from the network.
      const reasons = pipeline.commands
        .map((c) => commandWords(c))
        .filter((words) => !runners || !findPytest(words))
        .map((words) => networkReason(words) ?? skippedVenvReason(words, venvs))
        .filter((r): r is string => r !== null);
      for (const words of pipeline.commands.map((c) => commandWords(c))) {
        // `uv venv X` is skipped, so a later `source X/bin/activate` would fail: remember X.
        if (baseName(words[0] ?? '') === 'uv' && words[1] === 'venv') venvs.add(normaliseDir(words.slice(2).find((w) => !w.startsWith('-')) ?? '.venv'));
      }
      const helper = runners ? pipeline.commands.flatMap((c) => c.words.map((w) => baseName(w.raw))).find((w) => TB1_HELPERS[w] && !shipped.includes(w)) : undefined;
      const body = pipeline.commands[0]!;
      const bodyStart = body.words[0]?.start ?? body.start;
      if (reasons.length > 0 || (helper && TB1_HELPERS[helper] === 'skip')) {
        const why = reasons[0] ?? 'a Terminal-Bench 1 harness helper that installs pytest';
        adaptations.push(`${where}:${line.number}: skipped offline (${why}): ${shorten(line.text.slice(bodyStart, pipeline.end))}`);
        edits.push({ start: bodyStart, end: pipeline.end, text: 'true' });
        skipped += 1;
        skippedAny = true;
        continue;
      }
      if (helper) {
        adaptations.push(`${where}:${line.number}: ${helper} (a Terminal-Bench 1 harness helper) replaced by Gauntlet's test runner over ${testsDirVariable}`);
        edits.push({ start: bodyStart, end: pipeline.end, text: `${RUNNER} "${testsDirVariable}"` });
        runsTests = usesPython = true;
        continue;
      }
      for (const command of pipeline.commands) {
        const words = commandWords(command);
        const docker = dockerReason(words);
        if (docker) problems.push(`${where}:${line.number}: ${docker}, which needs Docker or a service manager, not available in a sandbox`);
        const pytest = runners ? findPytest(words) : null;
        if (pytest) {
          const args = command.words.slice(pytest.argsFrom);
          const { targets, options: dropped } = pytestTargets(args.map((w) => unquote(w.raw)));
          const kept = targets.map((t) => args[t]!.raw);
          const redirect = args.findIndex((w) => /^\d*[<>]/.test(unquote(w.raw)));
          const tail = redirect >= 0 ? ` ${line.text.slice(args[redirect]!.start, command.end)}` : '';
          const start = command.words[0]!.start;
          edits.push({ start, end: command.end, text: `${RUNNER} ${kept.length > 0 ? kept.join(' ') : `"${testsDirVariable}"`}${tail}` });
          const note = dropped.length > 0 ? `; options dropped: ${dropped.join(' ')}` : '';
          adaptations.push(`${where}:${line.number}: pytest via ${pytest.launcher} replaced by Gauntlet's test runner (pytest when importable in the sandbox, else a built-in runner)${note}`);
          runsTests = usesPython = true;
        } else if (words.length > 0 && !TRIVIAL.has(baseName(words[0]!))) runsTests = true;
      }
    }
    if (edits.length === 0) continue;
    // A line that was nothing but network commands becomes a comment, so the script reads clearly.
    const onlySkipped = skipped === pipelines.length && pipelines.every((p) => p.commands[0]!.prefix.length === 0);
    line.text = onlySkipped ? `# [gauntlet: skipped offline] ${line.text.replace(/\n/g, '\n# ')}` : replaceSpans(line.text, edits);
  }
  return { text: joinLogicalLines(lines), adaptations, problems, runsTests: runsTests || !skippedAny, usesPython };
}
