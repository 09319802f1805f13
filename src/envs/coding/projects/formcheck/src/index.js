import { card } from './rules/card.js';
import { color } from './rules/color.js';
import { date } from './rules/date.js';
import { email } from './rules/email.js';
import { length } from './rules/length.js';
import { number } from './rules/number.js';
import { password } from './rules/password.js';
import { phone } from './rules/phone.js';
import { required } from './rules/required.js';
import { url } from './rules/url.js';
import { username } from './rules/username.js';
import { zip } from './rules/zip.js';

export const rules = { card, color, date, email, length, number, password, phone, required, url, username, zip };

/** The first error of `[ruleName, options]` pairs, or null. Empty optional values skip the other rules. */
export function validate(value, ruleList) {
  const isRequired = ruleList.some(([name]) => name === 'required');
  if (!isRequired && (value === undefined || value === null || String(value).trim() === '')) return null;
  for (const [name, options] of ruleList) {
    const rule = rules[name];
    if (!rule) throw new Error(`unknown rule ${name}`);
    const error = rule(value, options);
    if (error) return error;
  }
  return null;
}

/** `{ valid, errors }` for a whole form: `errors` maps each invalid field to its first error. */
export function validateForm(values, schema) {
  const errors = {};
  for (const [field, ruleList] of Object.entries(schema)) {
    const error = validate(values[field], ruleList);
    if (error) errors[field] = error;
  }
  return { valid: Object.keys(errors).length === 0, errors };
}
