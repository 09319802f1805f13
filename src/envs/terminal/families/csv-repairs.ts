// CSV repairs: twenty order exports, each broken in its own way, and a QA report (prose) naming the
// problem in each file. The fixes differ file by file — drop a repeated header, convert one row's
// separators, fix a date, remove a duplicate order — so no single command repairs them all.
import type { JsonObject, Rng, Task } from '../../../core/index.ts';
import { familyRng, familyTask, step } from './common.ts';

const HEADER = 'order_id,date,customer,quantity,amount,currency';
const CUSTOMERS = ['acme', 'globex', 'initech', 'umbrella', 'hooli', 'stark', 'wayne', 'tyrell', 'cyberdyne', 'wonka'];

interface Row {
  id: number;
  date: string;
  customer: string;
  quantity: number;
  amount: string;
  currency: string;
}

const line = (r: Row) => `${r.id},${r.date},${r.customer},${r.quantity},${r.amount},${r.currency}`;

/** A broken file, its repaired form, what QA wrote about it, and a golden fix that works in both shells. */
interface Breakage {
  broken: string[];
  fixed: string[];
  report: string;
  fix: (path: string) => { tool: string; arguments: JsonObject };
}

type Breaker = (rows: Row[], file: string, rng: Rng) => Breakage;

const rewrite = (fixed: string[]) => (path: string) => ({ tool: 'write_file', arguments: { path, content: `${fixed.join('\n')}\n` } });

const BREAKERS: Breaker[] = [
  (rows, file, rng) => {
    const at = rng.int(2, rows.length - 1);
    const lines = rows.map(line);
    const broken = [HEADER, ...lines.slice(0, at), HEADER, ...lines.slice(at)];
    return { broken, fixed: [HEADER, ...lines], report: `${file}: the header line is repeated in the middle of the file (export was appended twice). Remove the extra header.`, fix: (p) => ({ tool: 'run_command', arguments: { command: `awk 'NR == 1 || $0 != "${HEADER}"' ${p} > ${p}.tmp && mv ${p}.tmp ${p}` } }) };
  },
  (rows, file, rng) => {
    const r = rows[rng.int(0, rows.length)] as Row;
    const lines = rows.map(line);
    const broken = rows.map((x) => (x === r ? line(x).replace(/,/g, ';') : line(x)));
    return { broken: [HEADER, ...broken], fixed: [HEADER, ...lines], report: `${file}: order ${r.id} was typed with semicolons instead of commas.`, fix: (p) => ({ tool: 'run_command', arguments: { command: `sed -i '/^${r.id};/s/;/,/g' ${p}` } }) };
  },
  (rows, file, rng) => {
    const r = rows[rng.int(0, rows.length)] as Row;
    const [y, m, d] = r.date.split('-');
    const broken = rows.map((x) => (x === r ? line({ ...x, date: `${d}/${m}/${y}` }) : line(x)));
    return { broken: [HEADER, ...broken], fixed: [HEADER, ...rows.map(line)], report: `${file}: order ${r.id} has its date as day/month/year; use ISO (YYYY-MM-DD) like the other rows.`, fix: (p) => ({ tool: 'run_command', arguments: { command: `sed -i 's|^${r.id},${d}/${m}/${y},|${r.id},${r.date},|' ${p}` } }) };
  },
  (rows, file, rng) => {
    const r = rows[rng.int(1, rows.length)] as Row;
    const broken = rows.flatMap((x) => (x === r ? [line(x), line(x)] : [line(x)]));
    return { broken: [HEADER, ...broken], fixed: [HEADER, ...rows.map(line)], report: `${file}: order ${r.id} appears twice; keep only one.`, fix: (p) => ({ tool: 'run_command', arguments: { command: `awk '!seen[$0]++' ${p} > ${p}.tmp && mv ${p}.tmp ${p}` } }) };
  },
  (rows, file, rng) => {
    const r = rows[rng.int(0, rows.length)] as Row;
    const broken = rows.map((x) => (x === r ? line({ ...x, amount: 'N/A' }) : line(x)));
    const fixed = [HEADER, ...rows.filter((x) => x !== r).map(line)];
    return { broken: [HEADER, ...broken], fixed, report: `${file}: order ${r.id} has no amount (N/A) — it was cancelled; drop that row.`, fix: rewrite(fixed) };
  },
  (rows, file, rng) => {
    const r = rows[rng.int(0, rows.length)] as Row;
    const broken = rows.map((x) => (x === r ? line({ ...x, currency: x.currency.toLowerCase() }) : line(x)));
    return { broken: [HEADER, ...broken], fixed: [HEADER, ...rows.map(line)], report: `${file}: currency code of order ${r.id} is lowercase; codes must be upper case.`, fix: (p) => ({ tool: 'run_command', arguments: { command: `sed -i 's/^\\(${r.id},.*\\),${r.currency.toLowerCase()}$/\\1,${r.currency}/' ${p}` } }) };
  },
  (rows, file, rng) => {
    const r = rows[rng.int(0, rows.length)] as Row;
    const broken = rows.map((x) => (x === r ? line({ ...x, quantity: -x.quantity }).replace(`,-${x.quantity},`, `,(${x.quantity}),`) : line(x)));
    const fixed = [HEADER, ...rows.map((x) => (x === r ? line({ ...x, quantity: -x.quantity }) : line(x)))];
    return { broken: [HEADER, ...broken], fixed, report: `${file}: order ${r.id} is a return; its quantity is written in accounting style (${r.quantity}) and must be a plain negative number.`, fix: rewrite(fixed) };
  },
  (rows, file) => {
    const lines = rows.map(line);
    const broken = [HEADER, ...lines.slice(0, 3), '', ...lines.slice(3), '', ''];
    return { broken, fixed: [HEADER, ...lines], report: `${file}: blank lines (one in the middle, two at the end) break the loader; remove them.`, fix: (p) => ({ tool: 'run_command', arguments: { command: `grep -v '^$' ${p} > ${p}.tmp && mv ${p}.tmp ${p}` } }) };
  },
];

function rowsFor(rng: Rng, file: number): Row[] {
  return Array.from({ length: rng.int(5, 9) }, (_, i) => ({
    id: 70000 + file * 100 + i * 7 + rng.int(0, 7),
    date: `2026-01-${String(rng.int(1, 29)).padStart(2, '0')}`,
    customer: rng.pick(CUSTOMERS),
    quantity: rng.int(1, 40),
    amount: (rng.int(500, 500_000) / 100).toFixed(2),
    currency: rng.pick(['EUR', 'USD', 'GBP']),
  }));
}

export function csvRepairTask(variant: number, count: number): Task {
  const rng = familyRng('csv-repairs', variant);
  const files: Record<string, string> = {};
  const findings: string[] = [];
  const checks: JsonObject[] = [];
  const fixes: { path: string; fix: Breakage['fix'] }[] = [];
  for (let i = 1; i <= count; i++) {
    const name = `orders_${String(i).padStart(2, '0')}.csv`;
    const path = `exports/${name}`;
    const breakage = (BREAKERS[(i - 1 + variant) % BREAKERS.length] as Breaker)(rowsFor(rng, i), name, rng);
    files[path] = `${breakage.broken.join('\n')}\n`;
    findings.push(`- ${breakage.report}`);
    checks.push({ check: 'file_equals', name: `${name} repaired`, path, content: `${breakage.fixed.join('\n')}\n` });
    fixes.push({ path, fix: breakage.fix });
  }
  // Clean files the report does not mention: they must come out untouched.
  for (let i = count + 1; i <= count + 3; i++) files[`exports/orders_${String(i).padStart(2, '0')}.csv`] = `${[HEADER, ...rowsFor(rng, i).map(line)].join('\n')}\n`;
  files['qa/report.md'] = ['# QA findings — January exports', '', 'One problem per file. Files not listed passed QA.', '', ...rng.shuffle(findings), ''].join('\n');
  checks.push({ check: 'files_unchanged_except', except: fixes.map((f) => f.path) });

  const steps = [step('read_file', { path: 'qa/report.md' }), ...fixes.map(({ path, fix }) => fix(path)), step('run_command', { command: "head -n 1 exports/*.csv | grep -c order_id" }), step('submit', {})];

  return familyTask({
    id: `csv-repairs-${count}`,
    instruction:
      `QA found one problem in each of ${count} order exports under exports/ and described them in qa/report.md. ` +
      'Repair every listed file so it is a clean CSV (header once, comma-separated, ISO dates, upper-case currency codes, ' +
      'no blank lines), fixing exactly what the report says and nothing else. Files not in the report must not change.',
    files,
    checks,
    steps,
    difficulty: 'hard',
    labels: ['data', 'csv', 'long-horizon', 'per-file-fixes'],
    family: { name: 'csv-repairs', params: { variant, count } },
  });
}
