// Turns tokens into output.
import { escapeHtml } from './escape.js';

function lookup(data, name) {
  return data[name];
}

export function renderTokens(tokens, data) {
  let out = '';
  for (const token of tokens) {
    if (token.type === 'text') out += token.value;
    else out += escapeHtml(lookup(data, token.name));
  }
  return out;
}
