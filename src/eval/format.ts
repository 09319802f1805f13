// Number and list formatting shared by warnings and renderers, so every output says the same thing.

/**
 * A rate as a percentage. One that is neither none nor all never reads as either: 0.9996 is
 * ">99.9%", not "100.0%", and 0.0004 is "<0.1%", not "0.0%".
 */
export function percent(value: number | null | undefined, digits = 1): string {
  if (value === null || value === undefined || Number.isNaN(value)) return '—';
  const text = (value * 100).toFixed(digits);
  const step = (10 ** -digits).toFixed(digits);
  if (value < 1 && Number(text) >= 100) return `>${(100 - Number(step)).toFixed(digits)}%`;
  if (value > 0 && Number(text) <= 0) return `<${step}%`;
  return `${text}%`;
}

export function fixed(value: number | null | undefined, digits = 2): string {
  return value === null || value === undefined || Number.isNaN(value) ? '—' : value.toFixed(digits);
}

/** "62.5% [55.0, 70.1]" */
export function rateWithCi(estimate: { mean: number; ci: [number, number] } | null): string {
  if (!estimate) return '—';
  return `${percent(estimate.mean)} [${(estimate.ci[0] * 100).toFixed(1)}, ${(estimate.ci[1] * 100).toFixed(1)}]`;
}

export function pValueText(p: number | null): string {
  if (p === null) return '—';
  return p < 0.001 ? '<0.001' : p.toFixed(3);
}

/** "a, b, c and 4 more" */
export function idList(ids: readonly string[], limit = 5): string {
  const shown = ids.slice(0, limit).join(', ');
  return ids.length > limit ? `${shown} and ${ids.length - limit} more` : shown;
}

export function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}

/**
 * Control characters (ESC, CR, backspace, NUL, C1) and the bidirectional overrides rewrite what a
 * terminal shows: an answer or a name holding them could recolour, hide or reorder the lines
 * around it. They are shown as escapes instead (`\x1b`, `\u202e`), and so are newlines (`\x0a`) unless
 * `keepNewlines` (for text that is wrapped line by line); a tab becomes a space.
 */
export function printable(text: string, options: { keepNewlines?: boolean } = {}): string {
  const source = options.keepNewlines ? text.replace(/\r\n/g, '\n') : text;
  // eslint-disable-next-line no-control-regex -- finding control characters is the point
  return source.replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (ch) => {
    if (ch === '\n' && options.keepNewlines) return ch;
    if (ch === '\t') return ' ';
    const code = ch.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}
