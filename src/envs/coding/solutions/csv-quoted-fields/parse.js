// Reading CSV text into records (RFC 4180): quoted fields may hold delimiters, quotes ("") and line breaks.

function records(text, delimiter) {
  const out = [];
  let record = [];
  let field = '';
  let quoted = false;
  // Whether the current record has begun: a final line break does not start an empty one.
  let started = false;
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    started = true;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i += 2;
      } else if (c === '"') {
        quoted = false;
        i += 1;
      } else {
        field += c;
        i += 1;
      }
    } else if (c === '"' && field === '') {
      quoted = true;
      i += 1;
    } else if (c === delimiter) {
      record.push(field);
      field = '';
      i += 1;
    } else if (c === '\n' || (c === '\r' && text[i + 1] === '\n')) {
      record.push(field);
      out.push(record);
      record = [];
      field = '';
      started = false;
      i += c === '\r' ? 2 : 1;
    } else {
      field += c;
      i += 1;
    }
  }
  if (started) {
    record.push(field);
    out.push(record);
  }
  return out;
}

export function parse(text, { delimiter = ',', header = false } = {}) {
  const all = records(text, delimiter);
  if (!header) return all;
  const [columns = [], ...rows] = all;
  return rows.map((row) => Object.fromEntries(columns.map((name, i) => [name, row[i] ?? ''])));
}
