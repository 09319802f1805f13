// Reading Prometheus' text format in tests: scrape an endpoint, then sum samples by name and labels.

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

export function parseSamples(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = SAMPLE.exec(line);
    if (!match) throw new Error(`not a Prometheus sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(LABEL)) labels[key!] = value!.replace(/\\n/g, '\n').replace(/\\(.)/g, '$1');
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

export interface Scraped {
  text: string;
  contentType: string;
  /** The sum of the samples named `name` whose labels include `labels`. */
  sum(name: string, labels?: Record<string, string>): number;
  /** Each value of `label` among the samples named `name`, with the sum of its samples. */
  by(name: string, label: string): Record<string, number>;
}

export function scraped(text: string, contentType = ''): Scraped {
  const samples = parseSamples(text);
  const matching = (name: string, labels: Record<string, string> = {}) => samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  return {
    text,
    contentType,
    sum: (name, labels) => matching(name, labels).reduce((total, s) => total + s.value, 0),
    by: (name, label) => {
      const out: Record<string, number> = {};
      for (const s of matching(name)) {
        const key = s.labels[label] ?? '';
        out[key] = (out[key] ?? 0) + s.value;
      }
      return out;
    },
  };
}

/** GET `url`; a non-200 answer is an error naming its status. */
export async function scrape(url: string, headers: Record<string, string> = {}): Promise<Scraped> {
  const response = await fetch(url, { headers });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`GET ${url}: ${response.status} ${text}`);
  return scraped(text, response.headers.get('content-type') ?? '');
}
