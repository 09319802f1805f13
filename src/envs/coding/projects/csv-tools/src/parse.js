// Reading CSV text into records.

export function parse(text, { delimiter = ',', header = false } = {}) {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const records = lines.map((line) => line.split(delimiter));
  if (!header) return records;
  const [columns = [], ...rows] = records;
  return rows.map((row) => Object.fromEntries(columns.map((name, i) => [name, row[i] ?? ''])));
}
