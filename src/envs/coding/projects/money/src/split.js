// Splitting an amount into equal shares.

export function splitEvenly(cents, parts) {
  if (!Number.isInteger(parts) || parts < 1) throw new Error(`parts must be a positive integer, got ${parts}`);
  const share = Math.floor(cents / parts);
  return Array.from({ length: parts }, () => share);
}
