// A card number: 12 to 19 digits (spaces allowed) passing the Luhn checksum.
export function card(value) {
  const digits = String(value).replace(/ /g, '');
  if (!/^\d{12,19}$/.test(digits)) return 'must be 12 to 19 digits';
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  if (sum % 10 !== 0) return 'is not a valid card number';
  return null;
}
