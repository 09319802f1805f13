// Splits a template into text and placeholder tokens.

const OPEN = '{{';
const CLOSE = '}}';

export function tokenize(template) {
  const tokens = [];
  let pos = 0;
  while (pos < template.length) {
    const open = template.indexOf(OPEN, pos);
    if (open === -1) {
      tokens.push({ type: 'text', value: template.slice(pos) });
      break;
    }
    if (open > pos) tokens.push({ type: 'text', value: template.slice(pos, open) });
    const close = template.indexOf(CLOSE, open + OPEN.length);
    if (close === -1) throw new SyntaxError(`unclosed placeholder at ${open}`);
    tokens.push({ type: 'var', name: template.slice(open + OPEN.length, close).trim() });
    pos = close + CLOSE.length;
  }
  return tokens;
}
