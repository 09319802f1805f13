import { tokenize } from './lexer.js';
import { renderTokens } from './render.js';

export function compile(template) {
  const tokens = tokenize(template);
  return (data = {}) => renderTokens(tokens, data);
}

export function render(template, data = {}) {
  return compile(template)(data);
}
