// Every `gauntlet …` command that the CLI's messages suggest must be one the CLI accepts: its
// subcommands exist and every --flag it names is one of that command's options. A hint naming a
// flag that does not exist (`gauntlet detect --run RUN`) sends the user straight into an error.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import type { Command } from 'commander';
import ts from 'typescript';
import { createProgram } from './program.ts';

const root = new URL('../..', import.meta.url).pathname;
/** The folders whose messages are checked. */
const SCANNED = ['src/cli', 'src/eval', 'src/review'];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

/** The text of each string and template literal (a substitution reads as the placeholder X); comments are not messages. */
function literals(file: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) found.push(node.text);
    else if (ts.isTemplateExpression(node)) found.push(node.head.text + node.templateSpans.map((span) => `X${span.literal.text}`).join(''));
    node.forEachChild(visit);
  };
  visit(source);
  return found;
}

/** Hints as users see them: `gauntlet …` between backticks inside a message. */
function hintsIn(text: string): string[] {
  return [...text.matchAll(/`gauntlet ([^`]+)`/g)].map((m) => m[1]!.trim());
}

/** What is wrong with a hint as a command line of `program`; null when the CLI would accept its command and flags. */
function hintProblem(program: Command, hint: string): string | null {
  const words = hint.split(/\s+/).filter((word) => word !== '');
  let command = program;
  let at = 0;
  for (; at < words.length; at++) {
    const next = command.commands.find((c) => c.name() === words[at] || c.aliases().includes(words[at]!));
    if (!next) break;
    command = next;
  }
  if (command === program) return `no command "${words[0] ?? ''}"`;
  // `gauntlet radar --json` runs radar's default subcommand, whose options count too.
  const fallback = (command as unknown as { _defaultCommandName?: string })._defaultCommandName;
  const accepting = [command, ...command.commands.filter((c) => c.name() === fallback)];
  for (const word of words.slice(at)) {
    if (!word.startsWith('--')) continue;
    const flag = word.split('=')[0]!;
    if (flag === '--help' || accepting.some((c) => c.options.some((o) => o.long === flag))) continue;
    return `\`gauntlet ${command.name()}\` has no option ${flag}`;
  }
  return null;
}

describe('hints in CLI messages', () => {
  const program = createProgram({ stdout: () => {}, stderr: () => {}, interactive: false, env: {} });

  it('tells a hint naming an unknown flag or command from a good one', () => {
    assert.equal(hintProblem(program, 'detect X --monitor MODEL'), null);
    assert.match(hintProblem(program, 'detect --run X --monitor MODEL') ?? '', /`gauntlet detect` has no option --run/);
    assert.match(hintProblem(program, 'nosuch --x') ?? '', /no command "nosuch"/);
    assert.equal(hintProblem(program, 'runs delete X --store X'), null);
    assert.equal(hintProblem(program, 'radar --json'), null);
    assert.deepEqual(hintsIn('run `gauntlet show X --store X` to list them, or `gauntlet runs`'), ['show X --store X', 'runs']);
  });

  it('suggests only commands and flags that exist', () => {
    const problems: string[] = [];
    let checked = 0;
    for (const dir of SCANNED) {
      for (const file of sourceFiles(join(root, dir))) {
        for (const hint of literals(file).flatMap(hintsIn)) {
          checked++;
          const problem = hintProblem(program, hint);
          if (problem) problems.push(`${relative(root, file)}: \`gauntlet ${hint}\`: ${problem}`);
        }
      }
    }
    assert.ok(checked > 10, `only ${checked} hints found: is the scan still finding them?`);
    assert.deepEqual(problems, []);
  });
});
