// Parsing decimal strings into integer cents.

const DECIMAL = /^-?\d+(\.\d{1,2})?$/;

export function toCents(text) {
  const trimmed = String(text).trim();
  if (!DECIMAL.test(trimmed)) throw new Error(`not a money amount: ${JSON.stringify(text)}`);
  return Math.floor(Number(trimmed) * 100);
}
