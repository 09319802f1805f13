// Formatting integer cents for people.

const SYMBOLS = { USD: '$', EUR: '€', GBP: '£' };

export function formatCents(cents, currency = 'USD') {
  const symbol = SYMBOLS[currency];
  if (!symbol) throw new Error(`unknown currency ${currency}`);
  const whole = Math.trunc(cents / 100);
  const fraction = String(Math.abs(cents % 100)).padStart(2, '0');
  const grouped = String(whole).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${symbol}${grouped}.${fraction}`;
}
