import { parse, tokenize } from '@huggingface/jinja';

// @huggingface/jinja's lexer and parser throw without positions. When compiling fails we find
// the line ourselves: for lexer errors, the first line prefix that fails the same way; for parser
// errors, the token the parser last looked at, mapped back to the line it starts on. This only
// runs after a failure, so the repeated lexing costs nothing on the happy path.

const LEX_OPTIONS = { lstrip_blocks: true, trim_blocks: true };

export interface SyntaxLocation {
  line: number;
  message: string;
}

/** Where `source` fails to compile, or `undefined` when it compiles (or no line can be found). */
export function locateSyntaxError(source: string): SyntaxLocation | undefined {
  const lines = source.split('\n');
  let tokens: ReturnType<typeof tokenize>;
  try {
    tokens = tokenize(source, LEX_OPTIONS);
  } catch (error) {
    const message = messageOf(error);
    for (let k = 1; k <= lines.length; k++) {
      const prefix = lines.slice(0, k).join('\n');
      try {
        tokenize(prefix, LEX_OPTIONS);
      } catch (prefixError) {
        if (messageOf(prefixError) === message) return { line: k, message };
      }
    }
    return { line: lines.length, message };
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

/** The first line whose prefix lexes into more than `index` tokens: the line where that token starts. */
function lineOfToken(lines: string[], index: number): number {
  for (let k = 1; k <= lines.length; k++) {
    try {
      if (tokenize(lines.slice(0, k).join('\n'), LEX_OPTIONS).length > index) return k;
    } catch (_error) {
      // A prefix can end inside a tag; keep going until one lexes.
    }
  }
  return lines.length;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
