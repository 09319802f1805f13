import { Template, parse } from '@huggingface/jinja';
import type { Node } from './jinja-runtime.ts';
import { EMPTY_TUPLE, TUPLE_END, lex, type Program, type Token } from './jinja-syntax.ts';

// @huggingface/jinja's lexer, parser and nodes carry no positions. When compiling fails we find
// the line ourselves: for lexer errors, the first line prefix that fails the same way; for parser
// errors, the token the parser last looked at, mapped back to the line it starts on. When a render
// fails, the statement it failed in is paired with the tag that opened it (the parser reads tags
// in source order, so the n-th statement of a walk in source order is the n-th tag that starts
// one) and that tag's token is mapped to its line. All of this runs only after a failure.

export interface SyntaxLocation {
  line: number;
  message: string;
}

/**
 * Where `source` fails to compile, or `undefined` when it compiles (or no line can be found).
 * `lexer` is the lexer to probe prefixes with: ours, or one a test counts the calls of.
 */
export function locateSyntaxError(source: string, lexer: (source: string) => Token[] = lex): SyntaxLocation | undefined {
  const lines = source.split('\n');
  let tokens: Token[];
  try {
    tokens = lexer(source);
  } catch (error) {
    const message = messageOf(error);
    // The lexer reads left to right and stops at the first error, so every prefix that reaches
    // the failing character fails the same way: a binary search finds the first such line in
    // O(log n) lexes (a scan of every prefix takes time quadratic in the template's length).
    const failsSo = (k: number): boolean => {
      try {
        lexer(lines.slice(0, k).join('\n'));
        return false;
      } catch (prefixError) {
        return messageOf(prefixError) === message;
      }
    };
    let [low, high] = [1, lines.length];
    while (low < high) {
      const middle = Math.floor((low + high) / 2);
      if (failsSo(middle)) high = middle;
      else low = middle + 1;
    }
    return { line: low, message };
  }

  let lastIndex = -1;
  const watched = new Proxy(tokens, {
    get(target, property, receiver) {
      if (typeof property === 'string' && /^\d+$/.test(property)) lastIndex = Number(property);
      return Reflect.get(target, property, receiver) as unknown;
    },
  });
  try {
    parse(watched);
    return undefined;
  } catch (error) {
    if (lastIndex >= tokens.length) {
      return { line: lines.length, message: 'unexpected end of template (is a {% if %}, {% for %} or {% macro %} block left open?)' };
    }
    return { line: lineOfToken(lines, Math.max(0, lastIndex)), message: messageOf(error) };
  }
}

export interface StatementLocation {
  line: number;
  /** The statement's tag as the library prints it back (`{% if x > 1 %}`), for the message. */
  tag: string;
}

/** The fields of a statement that hold nested statements, in source order. */
const BLOCKS = ['body', 'alternate', 'defaultBlock'];
/** Tags that close or divide a block rather than start a statement (`elif` starts the nested If it parses into). */
const CONTINUATION_TAGS = new Set(['else', 'endif', 'endfor', 'endmacro', 'endset', 'endcall', 'endfilter']);

/** The line of `statement` in a template compiled from `source` into `tokens` and `program`. */
export function locateStatement(source: string, tokens: readonly Token[], program: Program, statement: Node): StatementLocation | undefined {
  const starts: number[] = [];
  tokens.forEach((token, i) => {
    const opensStatement = token.type === 'OpenStatement' && !CONTINUATION_TAGS.has(tokens[i + 1]?.value ?? '');
    if (opensStatement || token.type === 'OpenExpression' || token.type === 'Text' || token.type === 'Comment') starts.push(i);
  });
  const order: Node[] = [];
  const walk = (statements: unknown): void => {
    for (const node of (statements as Node[] | undefined) ?? []) {
      order.push(node);
      for (const block of BLOCKS) walk(node[block]);
    }
  };
  walk((program as unknown as Node).body);
  // A count that does not match means the parser read tags in a way this walk does not know.
  if (order.length !== starts.length) return undefined;
  const index = order.indexOf(statement);
  const token = starts[index];
  if (token === undefined) return undefined;
  return { line: lineOfToken(source.split('\n'), token), tag: tagOf(statement, tokens[token + 1]?.value) };
}

/** The statement's opening tag, printed back by the library's formatter and cut to a readable length. */
function tagOf(statement: Node, keyword: string | undefined): string {
  const head: Node = { ...statement };
  for (const block of BLOCKS) if (Array.isArray(head[block])) head[block] = [];
  let text: string;
  try {
    const printer = Object.assign(new Template(''), { parsed: { type: 'Program', body: [head] } });
    text = (printer.format().split('\n')[0] ?? '').replace(/^\{([{%])- /, '{$1 ').replace(/ -([}%])\}$/, ' $1}');
  } catch (_error) {
    return `{% ${keyword ?? statement.type} %}`;
  }
  if (keyword === 'elif') text = text.replace(/^\{% if /, '{% elif ');
  text = text.replaceAll(`, ${TUPLE_END})`, ',)').replaceAll(`(${EMPTY_TUPLE})`, '()').replaceAll(EMPTY_TUPLE, '()');
  return text.length > 120 ? `${text.slice(0, 117)}…` : text;
}

/**
 * The line where token `index` starts: the first line whose prefix lexes into more than `index`
 * tokens. Counts grow with the prefix, so this is a binary search; a prefix that ends inside a
 * string does not lex, and counts as the next prefix that does.
 */
function lineOfToken(lines: readonly string[], index: number): number {
  const count = (k: number): number | undefined => {
    const prefix = lines.slice(0, k).join('\n');
    // A prefix that ends inside a comment is closed, so that a tag after the comment, on its last line, counts from there.
    for (const text of [prefix, `${prefix}#}`]) {
      try {
        return lex(text).length;
      } catch (_error) {
        // Ends inside a comment or string.
      }
    }
    return undefined;
  };
  // The whole text lexes into more than `index` tokens, so the last line is always an answer.
  let [low, high] = [1, lines.length];
  while (low < high) {
    const middle = Math.floor((low + high) / 2);
    let probe = middle;
    let tokens = count(probe);
    while (tokens === undefined && probe < high) tokens = count(++probe);
    if (tokens === undefined || tokens > index) high = middle;
    else low = probe + 1;
  }
  return low;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
