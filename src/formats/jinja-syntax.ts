import { parse, tokenize } from '@huggingface/jinja';

// The library's lexer, with the literals Jinja2 reads and it does not: floats with an exponent
// (`1e16`, `2.5e-3`), integers grouped with underscores (`1_000`), the empty tuple `()` and a
// one-item tuple `(x,)`. The lexer splits `1e16`
// into the number `1` and the name `e16`, which the parser then reads as two arguments or a
// syntax error; merging them back is safe because a number followed directly by such a name is
// never valid Jinja. The tuples are spelled with names the runtime knows (`()` is the name
// EMPTY_TUPLE, `(x,)` the tuple `(x, TUPLE_END)` with the marker dropped when it is built).

export const LEX_OPTIONS = { lstrip_blocks: true, trim_blocks: true };

export type Token = ReturnType<typeof tokenize>[number];
export type Program = ReturnType<typeof parse>;

/** The name `()` is read as; the runtime evaluates it to an empty tuple. */
export const EMPTY_TUPLE = '__gauntlet_empty_tuple__';
/** The name a trailing comma in `(x,)` is read as; the runtime leaves it out of the tuple. */
export const TUPLE_END = '__gauntlet_tuple_end__';

/** Tokens after which `(` opens a call's arguments rather than a parenthesised expression or tuple. */
const CALLABLE_BEFORE = new Set(['Identifier', 'CloseParen', 'CloseSquareBracket', 'StringLiteral']);
/** Names after which `(` still opens an expression: `x in (1,)`, `a if b else ()`. */
const KEYWORDS = new Set(['in', 'not', 'and', 'or', 'if', 'else', 'elif', 'is']);

/** Whether an `(` after `previous` opens a call. */
const opensCall = (previous: Token | undefined): boolean => previous !== undefined && CALLABLE_BEFORE.has(previous.type) && !(previous.type === 'Identifier' && KEYWORDS.has(previous.value));

/** Tokens for a template, as the library lexes it with transformers' options, plus the literals above. */
export function lex(source: string): Token[] {
  const raw = tokenize(source, LEX_OPTIONS);
  const out: Token[] = [];
  for (let i = 0; i < raw.length; i++) {
    const token = raw[i] as Token;
    const [next, sign, digits] = [raw[i + 1], raw[i + 2], raw[i + 3]];
    if (token.type === 'NumericLiteral' && next?.type === 'Identifier' && /^(?:_\d+)+$/.test(next.value) && /^\d+$/.test(token.value)) {
      // `1_000`: digits grouped by underscores, as Jinja2 (and Python) read an integer.
      out.push({ ...token, value: `${token.value}${next.value.replaceAll('_', '')}` });
      i += 1;
      continue;
    }
    if (token.type === 'NumericLiteral' && next?.type === 'Identifier') {
      // The mantissa keeps a '.' so the parser builds a float, as Jinja2 does for any exponent.
      const mantissa = token.value.includes('.') ? token.value : `${token.value}.0`;
      if (/^[eE]\d+$/.test(next.value)) {
        out.push({ ...token, value: `${mantissa}e${next.value.slice(1)}` });
        i += 1;
        continue;
      }
      if (/^[eE]$/.test(next.value) && sign?.type === 'AdditiveBinaryOperator' && /^[+-]$/.test(sign.value) && digits?.type === 'NumericLiteral' && /^\d+$/.test(digits.value)) {
        out.push({ ...token, value: `${mantissa}e${sign.value}${digits.value}` });
        i += 3;
        continue;
      }
    }
    const previous = out.at(-1);
    const grouping = token.type === 'OpenParen' && !opensCall(previous);
    if (grouping && next?.type === 'CloseParen') {
      out.push(token, { ...token, type: 'Identifier', value: EMPTY_TUPLE });
      continue;
    }
    out.push(token);
    if (token.type === 'Comma' && next?.type === 'CloseParen' && inGrouping(out)) out.push({ ...token, type: 'Identifier', value: TUPLE_END });
  }
  return out;
}

/** Whether the innermost open bracket in `tokens` is a parenthesised expression (not a call, list or dict). */
function inGrouping(tokens: readonly Token[]): boolean {
  let depth = 0;
  for (let i = tokens.length - 1; i >= 0; i--) {
    const type = (tokens[i] as Token).type;
    if (type === 'CloseParen' || type === 'CloseSquareBracket' || type === 'CloseCurlyBracket') depth++;
    else if (type === 'OpenParen' || type === 'OpenSquareBracket' || type === 'OpenCurlyBracket') {
      if (depth > 0) depth--;
      else return type === 'OpenParen' && !opensCall(tokens[i - 1]);
    }
  }
  return false;
}

/** Lexes and parses a template; throws the library's error for a syntax error. */
export function compileTemplate(source: string): { tokens: Token[]; program: Program } {
  const tokens = lex(source);
  return { tokens, program: parse(tokens) };
}
