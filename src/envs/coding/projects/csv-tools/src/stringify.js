// Writing records as CSV, quoting fields that contain a delimiter, quote or line break.

function field(value, delimiter) {
  const text = value === null || value === undefined ? '' : String(value);
  if (text.includes(delimiter) || /["\r\n]/.test(text)) return `"${text.replace(/"/g, '""')}"`;
  return text;
}

export function stringify(rows, { delimiter = ',' } = {}) {
  return rows.map((row) => row.map((value) => field(value, delimiter)).join(delimiter)).join('\n') + '\n';
}
