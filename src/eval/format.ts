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
