// A small arithmetic evaluator for the `calculate` distractor: numbers, + - * / %, unary minus and
// parentheses, by recursive descent. Nothing is ever passed to `eval`.

/** The value of `expression`, or a message saying what is wrong with it. */
export function evaluateArithmetic(expression: string): number | string {
  const tokens = expression.match(/\d+(?:\.\d+)?(?:e[+-]?\d+)?|\.\d+|[-+*/%()]|\S/gi) ?? [];
  let at = 0;
  const peek = () => tokens[at];
  const fail = (what: string): never => {
    throw new SyntaxError(what);
  };

  function primary(): number {
    const token = tokens[at++];
    if (token === undefined) return fail('the expression ends too early');
    if (token === '(') {
      const value = sum();
      if (tokens[at++] !== ')') fail('a "(" is never closed');
      return value;
    }
    if (token === '-') return -primary();
    if (token === '+') return primary();
    const n = Number(token);
    return Number.isFinite(n) ? n : fail(`unexpected "${token}"`);
  }

  function product(): number {
    let value = primary();
    for (let op = peek(); op === '*' || op === '/' || op === '%'; op = peek()) {
      at++;
      const right = primary();
      if (op !== '*' && right === 0) fail('division by zero');
      value = op === '*' ? value * right : op === '/' ? value / right : value % right;
    }
    return value;
  }

  function sum(): number {
    let value = product();
    for (let op = peek(); op === '+' || op === '-'; op = peek()) {
      at++;
      value = op === '+' ? value + product() : value - product();
    }
    return value;
  }

  try {
    if (tokens.length === 0) return 'the expression is empty';
    const value = sum();
    if (at < tokens.length) return `unexpected "${tokens[at]}"`;
    return value;
  } catch (error) {
    return error instanceof SyntaxError ? error.message : String(error);
  }
}
