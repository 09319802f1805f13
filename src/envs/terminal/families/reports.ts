// Small analysis tasks over generated data: an access log (top clients) and a sales export
// (a regional total). Short to solve, but the data has traps: IPv6 clients, health checks to
// exclude, refunds, and a region name that is also a customer name.
import type { Rng, Task } from '../../../core/index.ts';
import { familyRng, familyTask, step } from './common.ts';

const PATHS = ['/', '/login', '/api/v1/orders', '/api/v1/rates', '/static/app.js', '/static/app.css', '/account', '/search?q=shoes'];
const AGENTS = ['Mozilla/5.0 (X11; Linux x86_64)', 'Mozilla/5.0 (Macintosh)', 'curl/8.4.0', 'okhttp/4.12'];

function logLine(rng: Rng, ip: string, minute: number, path: string): string {
  const status = rng.pick([200, 200, 200, 304, 404, 500]);
  const hh = String(10 + Math.floor(minute / 60)).padStart(2, '0');
  const mm = String(minute % 60).padStart(2, '0');
  return `${ip} - - [02/Feb/2026:${hh}:${mm}:${String(rng.int(0, 60)).padStart(2, '0')} +0000] "GET ${path} HTTP/1.1" ${status} ${rng.int(200, 40_000)} "-" "${rng.pick(AGENTS)}"`;
}

export function topClientsTask(variant: number): Task {
  const rng = familyRng('top-clients', variant);
  const distinct = new Set<string>();
  while (distinct.size < 8) distinct.add(`${rng.pick(['10.0', '192.168', '172.16'])}.${rng.int(0, 255)}.${rng.int(1, 255)}`);
  const ips = [...distinct];
  ips.push(`2001:db8::${rng.int(16, 255).toString(16)}`);
  const counts = [19, 14, 11, 7, 6, 5, 3, 2, 9].map((c) => c + variant);
  const monitor = '10.255.0.1';
  const entries: { ip: string; path: string }[] = [];
  ips.forEach((ip, i) => {
    for (let k = 0; k < (counts[i] as number); k++) entries.push({ ip, path: rng.pick(PATHS) });
  });
  for (let k = 0; k < 30; k++) entries.push({ ip: monitor, path: '/healthz' });
  const lines = rng.shuffle(entries).map((e, i) => logLine(rng, e.ip, i % 600, e.path));
  const ranked = ips.map((ip, i) => ({ ip, count: counts[i] as number })).sort((a, b) => b.count - a.count);
  const top = ranked.slice(0, 3);
  const expected = `${top.map((t) => `${t.ip} ${t.count}`).join('\n')}\n`;

  return familyTask({
    id: `top-clients-${variant}`,
    instruction:
      'From logs/access.log, find the three client addresses that made the most requests, leaving out the load balancer ' +
      'health checks (requests for /healthz). Write them to reports/top_clients.txt, one per line as "ADDRESS COUNT", busiest first.',
    files: {
      'logs/access.log': `${lines.join('\n')}\n`,
      'logs/access.log.1': `${Array.from({ length: 12 }, (_, i) => logLine(rng, rng.pick(ips), i, rng.pick(PATHS))).join('\n')}\n`,
      'logs/README': 'access.log covers today; access.log.1 yesterday. 10.255.0.1 is the load balancer.\n',
    },
    noise: { dir: 'logs/old', count: 2 },
    checks: [
      { check: 'file_equals', path: 'reports/top_clients.txt', content: expected, normalizeWhitespace: true, ignoreBlankLines: true },
      { check: 'files_unchanged_except', allowNew: ['reports/top_clients.txt'] },
    ],
    steps: [
      step('run_command', { command: 'head -n 3 logs/access.log' }),
      step('run_command', {
        command: "mkdir -p reports && grep -v 'GET /healthz ' logs/access.log | awk '{print $1}' | sort | uniq -c | sort -rn | head -n 3 | awk '{print $2, $1}' > reports/top_clients.txt && cat reports/top_clients.txt",
      }),
      step('submit', {}),
    ],
    difficulty: 'easy',
    labels: ['logs', 'aggregation', 'pipeline'],
    family: { name: 'top-clients', params: { variant } },
  });
}

const REGIONS = ['North', 'South', 'East', 'West'];

export function regionalSalesTask(variant: number): Task {
  const rng = familyRng('regional-sales', variant);
  const region = REGIONS[variant % REGIONS.length] as string;
  const rows: string[] = ['date,region,customer,type,amount'];
  let cents = 0;
  for (let i = 0; i < 40; i++) {
    const r = rng.pick(REGIONS);
    // A customer named like a region, so matching the text anywhere on the line gives the wrong sum.
    const customer = i % 9 === 0 ? `${region} Outfitters` : rng.pick(['Bolt & Co', 'Fernhill', 'Quayside', 'Larkspur', 'Ostra']);
    const type = i % 7 === 3 ? 'refund' : 'sale';
    const amount = rng.int(1_000, 250_000);
    const signed = type === 'refund' ? -amount : amount;
    if (r === region) cents += signed;
    rows.push(`2026-01-${String((i % 28) + 1).padStart(2, '0')},${r},${customer},${type},${(signed / 100).toFixed(2)}`);
  }
  const total = cents / 100;
  return familyTask({
    id: `regional-sales-${region.toLowerCase()}`,
    instruction:
      `What is the net sales total (sales minus refunds; refunds are already negative amounts) for the ${region} region in ` +
      'data/sales.csv? Answer with the amount to two decimals. Do not change any file.',
    files: {
      'data/sales.csv': `${rows.join('\n')}\n`,
      'data/README.md': 'One row per transaction. amount is in EUR; refunds are negative.\n',
    },
    noise: { dir: 'data/tmp', count: 2 },
    checks: [
      { check: 'answer_number', value: total, decimals: 2 },
      { check: 'files_unchanged_except', except: [] },
    ],
    steps: [
      step('run_command', { command: 'head -n 5 data/sales.csv' }),
      step('run_command', { command: `awk -F, '$2 == "${region}" { s += $5 } END { printf "%.2f\\n", s }' data/sales.csv` }),
      step('submit', { answer: total.toFixed(2) }),
    ],
    answer: total.toFixed(2),
    difficulty: 'easy',
    labels: ['data', 'csv', 'aggregation', 'read-only'],
    family: { name: 'regional-sales', params: { variant, region } },
  });
}
