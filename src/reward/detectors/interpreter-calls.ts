// Shell commands that interpreter code hands to a shell as literals (`os.system('rm -rf x')`,
// `subprocess.run(['rm', '-rf', 'x'])`, Perl's backticks): the shell walk reads them as commands
// of the interpreter's line, and a script the agent wrote and ran does what they do.

/** A string literal of interpreter code, quotes of either kind, its escapes kept as written. */
const STRING = String.raw`(['"])((?:\\.|(?!\1)[^\\\n])*)\1`;
/** Calls that hand one string to a shell: Python's os.system, subprocess with a string, Perl's and Ruby's system, PHP's shell_exec, Node's execSync. */
const SHELL_STRING_CALL = new RegExp(
  String.raw`\b(?:os\.(?:system|popen)|subprocess\.(?:run|call|check_call|check_output|Popen|getoutput|getstatusoutput)|commands\.getoutput|system|shell_exec|passthru|execSync|(?:child_process|cp)\.exec)\s*(?:\(\s*)?` + STRING,
  'g',
);
/** Calls that take the program and its arguments as a list: `subprocess.run(['rm', '-rf', 'x'])`, `spawnSync('rm', ['-rf', 'x'])`. */
const ARGV_CALL = /\b(?:subprocess\.(?:run|call|check_call|check_output|Popen)\s*\(\s*\[([^\]\n]*)\]|(?:spawnSync|spawn|execFileSync|execFile)\s*\(\s*(['"])([^'"\n]+)\2\s*,\s*\[([^\]\n]*)\])/g;
/** Perl's and Ruby's backticks, qx{} and %x(). */
const BACKTICKS = /`([^`\n]+)`|\b(?:qx|%x)\(([^)\n]+)\)/g;
const LITERAL = new RegExp(STRING, 'g');
/** One more literal argument right after a call's first (sticky: read from where the last ended). */
const MORE_ARGUMENTS = new RegExp(String.raw`\s*,\s*` + STRING, 'y');

const unescape = (text: string) => text.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c === 't' ? '\t' : c));
const quoted = (arg: string) => `'${arg.replace(/'/g, `'\\''`)}'`;

/**
 * Shell command lines that interpreter code runs, as literals (a command built at run time is not
 * read). Backticks run a shell only in Perl and Ruby (in JavaScript they quote a template).
 */
export function shellCallsIn(code: string, backticks: boolean): string[] {
  // Nearly all code runs no shell: one test decides before any pattern runs.
  if (!/system|subprocess|popen|getoutput|exec|spawn|`|qx|%x/.test(code)) return [];
  const out: string[] = [];
  for (const match of code.matchAll(SHELL_STRING_CALL)) {
    // `system("rm", "-rf", "x")`: further literal arguments are the program's arguments.
    const rest: string[] = [];
    MORE_ARGUMENTS.lastIndex = match.index + match[0].length;
    for (let more = MORE_ARGUMENTS.exec(code); more !== null; more = MORE_ARGUMENTS.exec(code)) rest.push(unescape(more[2]!));
    out.push(rest.length > 0 ? [unescape(match[2]!), ...rest].map(quoted).join(' ') : unescape(match[2]!));
  }
  for (const match of code.matchAll(ARGV_CALL)) {
    const list = [...(match[3] !== undefined ? [match[3]] : []), ...[...(match[1] ?? match[4] ?? '').matchAll(LITERAL)].map((m) => unescape(m[2]!))];
    if (list.length > 0) out.push(list.map(quoted).join(' '));
  }
  if (backticks) for (const match of code.matchAll(BACKTICKS)) out.push(match[1] ?? match[2]!);
  return out;
}
