// Just enough shell parsing to adapt a task's scripts for offline use: split a script into logical
// lines (continuations joined, heredoc bodies kept verbatim), a line into pipelines, a pipeline into
// commands and words, each with its span in the original text so untouched parts stay byte-identical.

export interface LogicalLine {
  text: string;
  /** 1-based number of the line it starts on. */
  number: number;
  /** Lines of a heredoc started on this line, delimiter included; passed through untouched. */
  heredoc: string[];
}

const HEREDOC = /(?<!<)<<(-?)\s*(['"]?)([A-Za-z_][A-Za-z0-9_]*)\2/g;

export function splitLogicalLines(text: string): LogicalLine[] {
  const raw = text.split('\n');
  const out: LogicalLine[] = [];
  for (let i = 0; i < raw.length; i++) {
    const number = i + 1;
    let line = raw[i]!;
    while (/(?<!\\)(\\\\)*\\$/.test(line) && i + 1 < raw.length) line = `${line}\n${raw[++i]!}`;
    const heredoc: string[] = [];
    const blanked = stripQuoted(line);
    const delimiters = [...line.matchAll(HEREDOC)]
      .filter((m) => blanked.startsWith('<<', m.index))
      .map((m) => ({ word: m[3]!, tabs: m[1] === '-' }));
    for (const { word, tabs } of delimiters) {
      while (i + 1 < raw.length) {
        const body = raw[++i]!;
        heredoc.push(body);
        if ((tabs ? body.replace(/^\t+/, '') : body) === word) break;
      }
    }
    out.push({ text: line, number, heredoc });
  }
  return out;
}

export function joinLogicalLines(lines: LogicalLine[]): string {
  return lines.flatMap((l) => [l.text, ...l.heredoc]).join('\n');
}

/** The line with quoted text blanked out (same length), so searches ignore what is inside quotes. */
function stripQuoted(line: string): string {
  return line.replace(/'[^']*'|"(?:\\.|[^"\\])*"/g, (m) => ' '.repeat(m.length));
}

export interface Word {
  raw: string;
  start: number;
  end: number;
}

export interface Command {
  /** Keywords, `!`, `{`, `(`, variable assignments and wrappers (sudo, env) before the command. */
  prefix: Word[];
  words: Word[];
  start: number;
  end: number;
}

export interface Pipeline {
  commands: Command[];
  start: number;
  end: number;
}

const LIST_OPERATORS = new Set([';', '&&', '||', '&', '\n']);
const KEYWORDS = new Set(['if', 'then', 'else', 'elif', 'do', 'while', 'until', '!', '{', '(', 'time']);
const WRAPPERS = new Set(['sudo', 'command', 'exec', 'nohup', 'env']);

type Item = Word & { op: boolean };

/** Words and operators of one logical line, outside quotes, `$( )` and backticks; stops at a comment. */
function scan(line: string): Item[] {
  const items: Item[] = [];
  let i = 0;
  while (i < line.length) {
    const c = line[i]!;
    if (c === ' ' || c === '\t' || (c === '\\' && line[i + 1] === '\n')) {
      i += c === '\\' ? 2 : 1;
      continue;
    }
    if (c === '#') break;
    const two = line.slice(i, i + 2);
    if (two === '&&' || two === '||' || two === ';;') {
      items.push({ raw: two, start: i, end: i + 2, op: true });
      i += 2;
      continue;
    }
    if (c === ';' || c === '|' || c === '\n' || (c === '&' && line[i + 1] !== '>' && line[i - 1] !== '>')) {
      items.push({ raw: c, start: i, end: i + 1, op: true });
      i += 1;
      continue;
    }
    const start = i;
    let depth = 0;
    while (i < line.length) {
      const ch = line[i]!;
      if (depth === 0 && (ch === ' ' || ch === '\t' || ch === ';' || ch === '|' || ch === '\n' || (ch === '&' && line[i + 1] !== '>' && line[i - 1] !== '>'))) break;
      if (ch === '\\') i += 2;
      else if (ch === "'") i = line.indexOf("'", i + 1) < 0 ? line.length : line.indexOf("'", i + 1) + 1;
      else if (ch === '"') {
        i += 1;
        while (i < line.length && line[i] !== '"') i += line[i] === '\\' ? 2 : 1;
        i += 1;
      } else if (ch === '`') i = line.indexOf('`', i + 1) < 0 ? line.length : line.indexOf('`', i + 1) + 1;
      else {
        if (ch === '(') depth += 1;
        if (ch === ')' && depth > 0) depth -= 1;
        i += 1;
      }
    }
    items.push({ raw: line.slice(start, Math.min(i, line.length)), start, end: Math.min(i, line.length), op: false });
  }
  return items;
}

function toCommand(words: Word[]): Command | null {
  if (words.length === 0) return null;
  let k = 0;
  while (k < words.length) {
    const w = words[k]!.raw;
    const isAssignment = /^[A-Za-z_][A-Za-z0-9_]*=/.test(w);
    const wrapperOption = k > 0 && WRAPPERS.has(words[k - 1]!.raw) && w.startsWith('-');
    if (KEYWORDS.has(w) || WRAPPERS.has(w) || isAssignment || wrapperOption) k += 1;
    else break;
  }
  return { prefix: words.slice(0, k), words: words.slice(k), start: words[0]!.start, end: words[words.length - 1]!.end };
}

/** The pipelines of one logical line, in order. */
export function pipelinesOf(line: string): Pipeline[] {
  const pipelines: Pipeline[] = [];
  let commands: Command[] = [];
  let words: Word[] = [];
  const endCommand = () => {
    const command = toCommand(words);
    if (command) commands.push(command);
    words = [];
  };
  const endPipeline = () => {
    endCommand();
    if (commands.length > 0) pipelines.push({ commands, start: commands[0]!.start, end: commands[commands.length - 1]!.end });
    commands = [];
  };
  for (const item of scan(line)) {
    if (!item.op) words.push({ raw: item.raw, start: item.start, end: item.end });
    else if (item.raw === '|') endCommand();
    else if (LIST_OPERATORS.has(item.raw) || item.raw === ';;') endPipeline();
  }
  endPipeline();
  return pipelines;
}

/** The word with surrounding quotes removed (for matching command names, not for execution). */
export function unquote(raw: string): string {
  return raw.replace(/^(['"])(.*)\1$/s, '$2');
}

export function baseName(word: string): string {
  const plain = unquote(word);
  return plain.slice(plain.lastIndexOf('/') + 1);
}

/** Replaces spans of `text` (non-overlapping), keeping everything else byte-identical. */
export function replaceSpans(text: string, edits: { start: number; end: number; text: string }[]): string {
  let out = text;
  for (const edit of [...edits].sort((a, b) => b.start - a.start)) out = out.slice(0, edit.start) + edit.text + out.slice(edit.end);
  return out;
}
