// Shell commands as the shell will run them: just-bash's bash parser gives the syntax tree, and
// this walk turns it into the simple commands that execute (inside pipelines, `&&` chains,
// subshells, loops, command substitutions, `bash -c`, `eval`, `find -exec`, `sudo`/`timeout`/`xargs`
// wrappers), each with its arguments as text, its redirections and the directory it runs in.
import { posix } from 'node:path';
import type { CommandNode, ScriptNode, SimpleCommandNode, StatementNode, WordNode } from 'just-bash';
import { shellCallsIn } from './interpreter-calls.ts';
import { isParseLimit, PARSE_BUDGET, parseWithin, type ParseBudget } from './parse-budget.ts';

type WordPart = WordNode['parts'][number];

export interface ShellWord {
  text: string;
  /** Part of it is only known when the command runs (an unknown variable, a substitution). */
  dynamic: boolean;
  glob: boolean;
  /** Commands inside `$(…)`, backticks or `<(…)` in this word. */
  inner: ShellCommand[];
}

export interface ShellRedirect {
  op: string;
  fd: number | null;
  target: string;
  dynamic: boolean;
  /** The body of a here-document (`<<EOF`) or here-string (`<<<`). */
  body: string | null;
}

export interface ShellCommand {
  /** The program as invoked, without its directory (`/bin/rm` → `rm`), after unwrapping `sudo` and the like. */
  name: string;
  /** The program word as written (`./run.sh`, `/usr/bin/python3`). */
  program: string;
  args: ShellWord[];
  argv: string[];
  /** Absolute directory it runs in; null once a `cd` went somewhere unknown. */
  cwd: string | null;
  redirects: ShellRedirect[];
  /** The pipeline it is part of, itself included, in order; and its position there. */
  pipeline: ShellCommand[];
  pipeIndex: number;
  background: boolean;
  /** How it was reached: wrappers and nesting (`sudo`, `bash -c`, `$(…)`, `find -exec`, `xargs`). */
  via: string[];
  /** The source of the whole statement, for evidence. */
  statement: string;
  /** Program text handed to an interpreter (`python -c`, `node -e`, a here-document fed to `python3`). */
  inlineCode: string | null;
}

export interface ShellScript {
  source: string;
  commands: ShellCommand[];
  /** Why the parser refused it; the commands are then empty. */
  error: string | null;
  /**
   * What the reading left out to keep its cost bounded (a nested script not parsed, variables past
   * the substitution budget, `find` pairs not formed): the rules did not judge it, and the report says so.
   */
  notJudged: string[];
}

const SHELLS = new Set(['bash', 'sh', 'zsh', 'dash', 'ksh', 'ash']);
/** A Map, not an object: a program named `constructor` must find nothing here. */
const INTERPRETERS = new Map<string, readonly string[]>([
  ['python', ['-c']],
  ['python3', ['-c']],
  ['python2', ['-c']],
  ['node', ['-e', '--eval', '-p', '--print']],
  ['perl', ['-e', '-E']],
  ['ruby', ['-e']],
  ['php', ['-r']],
]);
const MAX_DEPTH = 4;
/**
 * Characters that known variables may add to one script's words. Each `$a` copies a's value, so
 * `a=$a$a` repeated doubles it; past this budget a variable reads as unknown instead of growing
 * the words (and the nested scripts parsed from them) without bound.
 */
const SUBSTITUTION_BUDGET = 1 << 20;
/**
 * Longer paths cannot be opened (Linux's PATH_MAX): such a word names nothing a command can reach.
 * A glob pattern is exempt: `tests/[aaaa…]*` matches short names however long it is.
 */
const PATH_MAX = 4096;
const GLOB_CHARS = /[*?[]/;

/** The absolute path `text` names when run in `cwd`, or null when it depends on something unknown. */
export function resolvePath(text: string, cwd: string | null, home: string): string | null {
  if (text === '' || text.startsWith('$')) return null;
  let path = text;
  if (path === '~' || path.startsWith('~/')) path = home + path.slice(1);
  if (!path.startsWith('/')) {
    if (!cwd) return null;
    path = cwd === '/' ? `/${path}` : `${cwd}/${path}`;
  }
  // Most paths need no normalising (no `.`, `..` or doubled slashes): skip the work for them.
  const normal = /\/\.{1,2}(\/|$)|\/\//.test(path) ? posix.normalize(path) : path;
  const resolved = normal.length > 1 && normal.endsWith('/') ? normal.replace(/\/+$/, '') : normal;
  return resolved.length >= PATH_MAX && !GLOB_CHARS.test(text) ? null : resolved;
}

/** `path` is `dir` or below it. */
export function isWithin(path: string, dir: string): boolean {
  // Called for every access against every hidden and scratch dir: no string is built for it.
  if (!path.startsWith(dir)) return false;
  return path.length === dir.length || dir.endsWith('/') || path.charCodeAt(dir.length) === 47;
}

function basename(program: string): string {
  const slash = program.lastIndexOf('/');
  return slash === -1 ? program : program.slice(slash + 1);
}

interface Scope {
  cwd: string | null;
  via: string[];
  statement: string;
  depth: number;
}

class Walker {
  readonly commands: ShellCommand[] = [];
  readonly notJudged: string[] = [];
  private readonly vars = new Map<string, string | null>();
  private substitutable = SUBSTITUTION_BUDGET;
  /** A variable was read as unknown for the budget (said once per script). */
  private overBudget = false;

  constructor(
    private readonly home: string,
    private readonly parseBudget: ParseBudget,
  ) {}

  script(node: ScriptNode, scope: Scope): string | null {
    return this.statements(node.statements, scope);
  }

  private statements(list: readonly StatementNode[], scope: Scope): string | null {
    let cwd = scope.cwd;
    for (const statement of list) {
      const text = scope.depth === 0 && statement.sourceText ? statement.sourceText : scope.statement;
      for (const pipeline of statement.pipelines) {
        const inner = { ...scope, cwd, statement: text };
        if (pipeline.commands.length === 1) cwd = this.command(pipeline.commands[0]!, inner, { background: statement.background, members: null });
        else {
          // Every member of a real pipeline runs in its own subshell: a `cd` there changes nothing after.
          const members: ShellCommand[] = [];
          for (const command of pipeline.commands) this.command(command, inner, { background: statement.background, members });
        }
      }
    }
    return cwd;
  }

  private command(node: CommandNode, scope: Scope, place: { background: boolean; members: ShellCommand[] | null }): string | null {
    // `while read l; do …; done < f`, `{ …; } > f`: a compound command's redirections read or write
    // files as a command's do; recorded as one named by its keyword, doing nothing else.
    if (node.type !== 'SimpleCommand' && node.redirections.length > 0) {
      const keyword = COMPOUND_NAMES[node.type];
      this.invoke([{ text: keyword, dynamic: false, glob: false, inner: [] }], node.redirections.map((r) => this.redirect(r, scope)), scope, place);
    }
    switch (node.type) {
      case 'SimpleCommand':
        return this.simple(node, scope, place);
      case 'Subshell':
        this.statements(node.body, scope);
        return scope.cwd;
      case 'Group':
        return this.statements(node.body, scope);
      case 'If':
        for (const clause of node.clauses) {
          this.statements(clause.condition, scope);
          this.statements(clause.body, scope);
        }
        if (node.elseBody) this.statements(node.elseBody, scope);
        return scope.cwd;
      case 'For': {
        // The loop variable stands for the first listed word: `for f in tests/*.py` makes "$f" a test path.
        const first = node.words?.map((w) => this.word(w, scope)).find((w) => !w.dynamic);
        this.vars.set(node.variable, first ? first.text : null);
        this.statements(node.body, scope);
        return scope.cwd;
      }
      case 'CStyleFor':
        this.statements(node.body, scope);
        return scope.cwd;
      case 'While':
      case 'Until':
        this.statements(node.condition, scope);
        this.statements(node.body, scope);
        return scope.cwd;
      case 'Case':
        for (const item of node.items) this.statements(item.body, scope);
        return scope.cwd;
      case 'FunctionDef':
        this.command(node.body, scope, place);
        return scope.cwd;
      default:
        return scope.cwd;
    }
  }

  /**
   * A word's text. With `split`, white space that an unquoted expansion brought in separates fields
   * (marked by FIELD, split by `fields`), as bash splits `$CMD` or `$(echo rm -rf x)` into words.
   */
  private word(word: WordNode, scope: Scope, split = false): ShellWord {
    const out: ShellWord = { text: '', dynamic: false, glob: false, inner: [] };
    this.parts(word.parts, scope, out, split);
    return out;
  }

  /** Text an expansion adds; in an unquoted command word its white space separates fields. */
  private expanded(text: string, out: ShellWord, split: boolean): void {
    out.text += split && /\s/.test(text) ? text.replace(/\s+/g, FIELD) : text;
  }

  private parts(parts: readonly WordPart[], scope: Scope, out: ShellWord, split = false): void {
    for (const part of parts) {
      switch (part.type) {
        case 'Literal':
        case 'SingleQuoted':
        case 'Escaped':
          out.text += part.value;
          break;
        case 'DoubleQuoted':
          this.parts(part.parts, scope, out);
          break;
        case 'TildeExpansion':
          out.text += part.user === null ? this.home : `/home/${part.user}`;
          break;
        case 'Glob':
          out.text += part.pattern;
          out.glob = true;
          break;
        case 'ParameterExpansion': {
          const known = part.parameter === 'HOME' ? this.home : part.operation === null ? this.vars.get(part.parameter) : undefined;
          if (typeof known === 'string' && known.length <= this.substitutable) {
            this.substitutable -= known.length;
            this.expanded(known, out, split);
          } else {
            if (typeof known === 'string' && !this.overBudget) {
              this.overBudget = true;
              this.notJudged.push(`a variable read as unknown: values substituted into this script's words would pass ${SUBSTITUTION_BUDGET} characters (first: $${part.parameter})`);
            }
            out.text += `$${part.parameter}`;
            out.dynamic = true;
          }
          break;
        }
        case 'CommandSubstitution':
        case 'ProcessSubstitution': {
          const before = this.commands.length;
          const how = part.type === 'CommandSubstitution' ? '$(…)' : '<(…)';
          this.script(part.body, { ...scope, via: [...scope.via, how] });
          // A loop, not push(...): a substitution may hold more commands than a call takes arguments.
          for (let i = before; i < this.commands.length; i++) out.inner.push(this.commands[i]!);
          // `$(echo rm)`, `$(echo L3Rlc3Rz | base64 -d)`: a literal printed on the spot is known now (bash drops its trailing newlines).
          const printed = part.type === 'CommandSubstitution' && part.body.statements.length === 1 ? literalOutput(this.commands.slice(before)) : null;
          if (printed !== null && printed.length <= this.substitutable) {
            this.substitutable -= printed.length;
            this.expanded(printed.replace(/\n+$/, ''), out, split);
            break;
          }
          out.text += part.type === 'CommandSubstitution' ? '$(…)' : '<(…)';
          out.dynamic = true;
          break;
        }
        case 'BraceExpansion':
          out.text += `{${part.items.map((item) => (item.type === 'Word' ? this.word(item.word, scope).text : `${item.start}..${item.end}`)).join(',')}}`;
          break;
        default:
          out.text += '$(( ))';
          out.dynamic = true;
      }
    }
  }

  private simple(node: SimpleCommandNode, scope: Scope, place: { background: boolean; members: ShellCommand[] | null }): string | null {
    for (const assignment of node.assignments) {
      const value = assignment.value ? this.word(assignment.value, scope) : { text: '', dynamic: false };
      this.vars.set(assignment.name, value.dynamic ? null : value.text);
    }
    // `> file` alone truncates the file: recorded as `:` with that redirection.
    if (!node.name && node.redirections.length === 0) return scope.cwd;
    const words = [...(node.name ? [this.word(node.name, scope, true)] : [{ text: ':', dynamic: false, glob: false, inner: [] }]), ...node.args.map((w) => this.word(w, scope, true))].flatMap(fields);
    return this.invoke(words, node.redirections.map((r) => this.redirect(r, scope)), scope, place);
  }

  private redirect(r: SimpleCommandNode['redirections'][number], scope: Scope): ShellRedirect {
    if (r.target.type === 'HereDoc') return { op: r.operator, fd: r.fd, target: '', dynamic: false, body: this.word(r.target.content, scope).text };
    const target = this.word(r.target, scope);
    return { op: r.operator, fd: r.fd, target: target.text, dynamic: target.dynamic, body: r.operator === '<<<' ? target.text : null };
  }

  /** Records one command after peeling wrappers off it; returns the directory after it (`cd`). */
  private invoke(words: ShellWord[], redirects: ShellRedirect[], scope: Scope, place: { background: boolean; members: ShellCommand[] | null }): string | null {
    const unwrapped = unwrap(words);
    const via = [...scope.via, ...unwrapped.via];
    const [head, ...args] = unwrapped.words;
    if (!head) return scope.cwd;
    const name = basename(head.text);
    if ((SHELLS.has(name) || name === 'eval') && scope.depth < MAX_DEPTH) {
      const flag = args.findIndex((a) => a.text === '-c' || /^-[a-z]*c$/.test(a.text));
      const codeWords = name === 'eval' ? args : flag === -1 ? [] : args.slice(flag + 1, flag + 2);
      // A string only known at run time (`sh -c "$(curl …)"`) stays an argument, its inner commands kept,
      // unless it is a literal decoded on the spot (`eval "$(echo … | base64 -d)"`).
      const code = codeWords.length > 0 ? codeWords.map((w) => (w.dynamic ? decodedWord(w) : w.text)) : [];
      if (code.length > 0 && code.every((c) => c !== null)) {
        this.nested(code.join(' '), { ...scope, via: [...via, name === 'eval' ? 'eval' : `${name} -c`], depth: scope.depth + 1 });
        return scope.cwd;
      }
      // `echo CODE | sh`, `echo B64 | base64 -d | bash`, `bash <<< CODE`: a shell with no script runs its stdin.
      const fed = name !== 'eval' && flag === -1 && args.every((a) => a.text.startsWith('-')) ? stdinText(redirects, place.members) : null;
      if (fed !== null) {
        this.nested(fed, { ...scope, via: [...via, `${name} <stdin`], depth: scope.depth + 1 });
        return scope.cwd;
      }
    }
    // Definitions run later under their name; what they would run is read where they are written.
    if (scope.depth < MAX_DEPTH) {
      for (const definition of definitions(name, args)) this.nested(definition.code, { ...scope, via: [...via, definition.via], depth: scope.depth + 1 });
    }
    if (DECLARES.has(name)) {
      for (const a of args) {
        const match = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(a.text);
        if (match) this.vars.set(match[1]!, a.dynamic ? null : match[2]!);
      }
    }
    const code = inlineCode(name, args, redirects);
    // `python3 -c "os.system('rm -rf tests')"`: shell commands the interpreter code hands to a shell.
    if (code !== null && scope.depth < MAX_DEPTH) for (const call of shellCallsIn(code, name === 'perl' || name === 'ruby')) this.nested(call, { ...scope, via: [...via, `${name} code`], depth: scope.depth + 1 });
    const pipeline = place.members ?? [];
    const command: ShellCommand = {
      name,
      program: head.text,
      args,
      argv: args.map((a) => a.text),
      cwd: scope.cwd,
      redirects,
      pipeline,
      pipeIndex: pipeline.length,
      background: place.background,
      via,
      statement: scope.statement,
      inlineCode: code,
    };
    pipeline.push(command);
    this.commands.push(command);
    if (name === 'find') {
      const { roots, names } = findTests(command);
      if (roots.length * names.length > FIND_PAIRS) {
        this.notJudged.push(`find with ${roots.length} start points and ${names.length} names: only each name under the first start point and each start point with the first name were judged`);
      }
      this.findExec(command, scope);
    }
    if (name === 'cd' || name === 'pushd') {
      const target = args.find((a) => !a.text.startsWith('-'));
      if (!target) return name === 'cd' ? this.home : scope.cwd;
      return target.dynamic ? null : resolvePath(target.text, scope.cwd, this.home);
    }
    if (name === 'popd') return null;
    return scope.cwd;
  }

  private nested(code: string, scope: Scope): void {
    let ast: ScriptNode;
    try {
      ast = parseWithin(code, this.parseBudget);
    } catch (error) {
      // A script refused for its cost could hide anything: said, not skipped. One with a syntax error
      // stays what it was, an argument of the outer command (bash would refuse it too).
      const message = (error as Error).message;
      if (isParseLimit(message)) this.notJudged.push(`the script run by ${scope.via.at(-1) ?? 'it'}: ${message}`);
      return;
    }
    this.script(ast, scope);
  }

  /** `find ROOT … -exec CMD {} ;`: CMD runs on what find finds, under ROOT. */
  private findExec(find: ShellCommand, scope: Scope): void {
    // `{}` is each thing found: what the name test matches below the first root, else the root.
    const target = findTargets(find, 1)[0]!;
    for (let i = 0; i < find.args.length; i++) {
      if (!['-exec', '-execdir', '-ok', '-okdir'].includes(find.argv[i]!)) continue;
      let end = i + 1;
      while (end < find.args.length && find.args[end]!.text !== ';' && find.args[end]!.text !== '+') end++;
      const words = find.args.slice(i + 1, end).map((w) => (w.text === '{}' ? { ...w, text: target.text, glob: w.glob || target.glob } : w));
      this.invoke(words, [], { ...scope, via: [...scope.via, 'find -exec'] }, { background: false, members: null });
    }
  }
}

/**
 * Root and name pairs listed in full; past this, each name goes with the first root and each root
 * with the first name (10,000 roots and names would otherwise make a hundred million paths).
 */
const FIND_PAIRS = 4096;

/** The start points of `find`, and the patterns of its positive name and path tests. */
function findTests(find: Pick<ShellCommand, 'args'>): { roots: string[]; names: string[]; paths: string[] } {
  const roots: string[] = [];
  for (const word of find.args) {
    if (/^[-(!]/.test(word.text)) break;
    roots.push(word.text);
  }
  if (roots.length === 0) roots.push('.');
  const names: string[] = [];
  const paths: string[] = [];
  find.args.forEach((word, i) => {
    const value = find.args[i + 1]?.text;
    const negated = ['!', '-not'].includes(find.args[i - 1]?.text ?? '');
    if (value === undefined || negated) return;
    if (word.text === '-name' || word.text === '-iname') names.push(value);
    if (word.text === '-path' || word.text === '-wholename' || word.text === '-ipath') paths.push(value);
  });
  return { roots, names, paths };
}

/** What `find ROOT… -name PATTERN` acts on: ROOT/PATTERN for each positive name or path test, else each root. */
export function findTargets(find: Pick<ShellCommand, 'args'>, limit = Infinity): { text: string; glob: boolean }[] {
  const { roots, names, paths } = findTests(find);
  // A name test matches at any depth; ROOT/PATTERN stands for all of them (a test path or not, as the name says).
  if (names.length === 0 && paths.length === 0) return roots.slice(0, limit).map((text) => ({ text, glob: false }));
  const bases = roots.map((root) => root.replace(/\/+$/, ''));
  const out: { text: string; glob: boolean }[] = [];
  const pair = (root: number, name: number) => out.push({ text: `${bases[root]}/${names[name]}`, glob: true });
  if (roots.length * names.length <= FIND_PAIRS) {
    for (let r = 0; r < roots.length && out.length < limit; r++) for (let n = 0; n < names.length && out.length < limit; n++) pair(r, n);
  } else {
    for (let n = 0; n < names.length && out.length < limit; n++) pair(0, n);
    for (let r = 1; r < roots.length && out.length < limit; r++) pair(r, 0);
  }
  for (const text of paths) if (out.length < limit) out.push({ text, glob: true });
  return out;
}

/** What a compound command carrying redirections is recorded as. */
const COMPOUND_NAMES: Record<Exclude<CommandNode['type'], 'SimpleCommand'>, string> = {
  If: 'if',
  For: 'for',
  CStyleFor: 'for',
  While: 'while',
  Until: 'until',
  Case: 'case',
  Subshell: '(',
  Group: '{',
  ArithmeticCommand: '((',
  ConditionalCommand: '[[',
  FunctionDef: 'function',
};

/** Marks where an unquoted expansion's white space splits a word (NUL cannot be in an argument). */
const FIELD = '\u0000';

/** A word as the fields bash splits it into: one, unless an unquoted expansion brought white space in. */
function fields(word: ShellWord): ShellWord[] {
  if (!word.text.includes(FIELD)) return [word];
  return word.text
    .split(FIELD)
    .filter((text) => text !== '')
    .map((text) => ({ ...word, text }));
}

/** What a substitution's commands print when they print a literal (`echo x`, `printf '%s' x | base64 -d`), else null. */
function literalOutput(commands: readonly ShellCommand[]): string | null {
  const pipeline = commands[0]?.pipeline;
  if (!pipeline || pipeline.length !== commands.length || !commands.every((c, i) => c === pipeline[i])) return null;
  return pipedText(pipeline);
}

/** Commands that set variables from NAME=VALUE arguments. */
const DECLARES = new Set(['export', 'declare', 'typeset', 'local', 'readonly']);

/** Literal text written into a pipe by `echo`/`printf` (escapes read as printf and `echo -e` read them). */
function echoed(command: ShellCommand): string | null {
  if (command.args.some((a) => a.dynamic)) return null;
  if (command.name === 'echo') {
    const first = command.argv.findIndex((a) => !/^-[neE]+$/.test(a));
    const text = first === -1 ? '' : command.argv.slice(first).join(' ');
    return command.argv.slice(0, first === -1 ? undefined : first).some((a) => a.includes('e')) ? expandEscapes(text) : text;
  }
  if (command.name === 'printf') return printfText(command.argv);
  if (command.name === 'cat') return command.redirects.find((r) => r.body !== null)?.body ?? null;
  return null;
}

const expandEscapes = (text: string) => text.replace(/\\n/g, '\n').replace(/\\t/g, '\t');

/**
 * What `printf FORMAT ARGS…` prints when its format uses only %s, %b, %c, %d and %% (the format
 * repeats while arguments remain, as printf does); null for other formats or no format.
 */
export function printfText(argv: readonly string[]): string | null {
  const [format, ...values] = argv[0] === '--' ? argv.slice(1) : argv;
  if (format === undefined) return null;
  const specs = format.match(/%./gs) ?? [];
  if (specs.some((spec) => !/^%[sbcd%]$/.test(spec))) return null;
  const takes = specs.filter((spec) => spec !== '%%').length;
  let out = '';
  let next = 0;
  do {
    out += format.replace(/%[sbcd%]/g, (spec) => (spec === '%%' ? '%' : (values[next++] ?? '')));
  } while (takes > 0 && next < values.length);
  return expandEscapes(out);
}

/** Decoders whose output is still the program text (`base64 -d`). */
function decode(command: ShellCommand, text: string): string | null {
  if (command.name !== 'base64' || !command.argv.some((a) => a === '-d' || a === '-D' || a === '--decode')) return null;
  const decoded = Buffer.from(text.replace(/\s+/g, ''), 'base64').toString('utf8');
  // Text that is not a program once decoded (binary) is nothing to read.
  return /^[\t\n\r\x20-\x7e]*$/.test(decoded) ? decoded : null;
}

/** The text a pipeline hands to its next member: a literal, through any number of decoders. */
function pipedText(members: readonly ShellCommand[]): string | null {
  const [source, ...decoders] = members;
  let text = source ? echoed(source) : null;
  for (const d of decoders) text = text === null ? null : decode(d, text);
  return text;
}

/** What a shell reads as its program on stdin: a here-string or here-document, or a literal piped in. */
function stdinText(redirects: readonly ShellRedirect[], members: readonly ShellCommand[] | null): string | null {
  const body = redirects.find((r) => r.body !== null)?.body;
  if (body !== undefined && body !== null) return body;
  return members && members.length > 0 ? pipedText(members) : null;
}

/** A word made only of `$(echo … | base64 -d)`: the literal it decodes to. */
function decodedWord(word: ShellWord): string | null {
  const pipeline = word.inner[0]?.pipeline;
  return word.text === '$(…)' && pipeline && word.inner.every((c) => c.pipeline === pipeline) ? pipedText(pipeline) : null;
}

/** Aliases (`alias x='rm -rf tests'`) and git aliases (`git config alias.x 'checkout …'`, `git -c alias.x=…`) defined by a command. */
function definitions(name: string, args: readonly ShellWord[]): { code: string; via: string }[] {
  // Nearly every command is neither: they pay one comparison.
  if (name !== 'alias' && name !== 'git') return [];
  const out: { code: string; via: string }[] = [];
  const gitAlias = (key: string, value: string) => {
    const alias = /^alias\.([\w-]+)$/i.exec(key);
    if (alias) out.push({ code: value.startsWith('!') ? value.slice(1) : `git ${value}`, via: `git alias ${alias[1]}` });
  };
  if (name === 'alias') {
    for (const a of args) {
      const match = /^([^=\s]+)=(.+)$/s.exec(a.text);
      if (match && !a.dynamic) out.push({ code: match[2]!, via: `alias ${match[1]}` });
    }
  }
  if (name === 'git' && args.some((a) => a.text === 'config' || a.text === '-c')) {
    const argv = args.map((a) => a.text);
    for (let i = 0; i < argv.length; i++) if (argv[i] === '-c' && argv[i + 1]?.includes('=')) gitAlias(argv[i + 1]!.split('=')[0]!, argv[i + 1]!.slice(argv[i + 1]!.indexOf('=') + 1));
    const config = argv.indexOf('config');
    if (config !== -1) {
      const rest = argv.slice(config + 1).filter((a) => !a.startsWith('-'));
      if (rest.length >= 2) gitAlias(rest[0]!, rest.slice(1).join(' '));
    }
  }
  return out;
}

/** The index of the first word at or after `from` that is not an option (or an option's value). */
function skipOptions(words: readonly ShellWord[], from: number, withValue: readonly string[] = []): number {
  let i = from;
  while (i < words.length && words[i]!.text.startsWith('-')) i += withValue.includes(words[i]!.text) ? 2 : 1;
  return i;
}

const PLAIN_WRAPPERS = new Set(['nohup', 'time', 'command', 'exec', 'builtin', 'setsid', 'unbuffer', 'stdbuf', 'chronic', 'busybox', 'toybox']);

/** Wrappers that run their argument as the command: `sudo rm` is `rm`. */
function unwrap(words: ShellWord[]): { words: ShellWord[]; via: string[] } {
  let rest = words;
  const via: string[] = [];
  for (let guard = 0; guard < 8; guard++) {
    const name = rest[0] ? basename(rest[0].text) : '';
    let next: number;
    if (name === 'sudo' || name === 'doas') next = skipOptions(rest, 1, ['-u', '-g', '-C', '-h', '-p', '-U']);
    else if (name === 'env') {
      next = skipOptions(rest, 1, ['-u', '-C', '-S']);
      while (next < rest.length && /^[A-Za-z_][A-Za-z0-9_]*=/.test(rest[next]!.text)) next++;
    } else if (name === 'timeout') next = skipOptions(rest, 1, ['-s', '-k', '--signal', '--kill-after']) + 1;
    else if (name === 'nice' || name === 'ionice') next = skipOptions(rest, 1, ['-n', '-c']);
    else if (PLAIN_WRAPPERS.has(name)) next = skipOptions(rest, 1);
    else if (name === 'xargs') next = skipOptions(rest, 1, ['-I', '-n', '-P', '-d', '-L', '-s', '-E', '-a']);
    else break;
    if (next >= rest.length) break;
    via.push(name);
    rest = rest.slice(next);
  }
  return { words: rest, via };
}

/** `python3.11` is `python` (anchored: an unanchored version pattern backtracks over every digit of a long name). */
const VERSIONED = /^([A-Za-z]+)\d+(?:\.\d+)*$/;

function inlineCode(name: string, args: readonly ShellWord[], redirects: readonly ShellRedirect[]): string | null {
  const flags = INTERPRETERS.get(VERSIONED.exec(name)?.[1] ?? name) ?? INTERPRETERS.get(name);
  if (!flags) return null;
  const at = args.findIndex((a) => flags.includes(a.text));
  if (at !== -1) return args[at + 1]?.text ?? null;
  return redirects.find((r) => r.body !== null)?.body ?? null;
}

/** Parses a command line and lists the commands it runs. `cwd` is where the tool runs it (the work dir). */
export function analyseShell(source: string, options: { cwd: string | null; home: string; budget?: ParseBudget }): ShellScript {
  const budget = options.budget ?? { left: PARSE_BUDGET };
  let ast: ScriptNode;
  try {
    ast = parseWithin(source, budget);
  } catch (error) {
    return { source, commands: [], error: (error as Error).message, notJudged: [] };
  }
  const walker = new Walker(options.home, budget);
  walker.script(ast, { cwd: options.cwd, via: [], statement: source, depth: 0 });
  return { source, commands: walker.commands, error: null, notJudged: walker.notJudged };
}
