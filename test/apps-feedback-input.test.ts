// Feedback files as they arrive: empty, damaged, with numbers JSON cannot keep, or by the ten
// thousand; each case is a defect found this way, kept as a test.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { clusterReports, normaliseText, type Cluster } from '../src/apps/feedback/cluster.ts';
import { ingestFile, type FeedbackReport } from '../src/apps/feedback/ingest.ts';
import { createRng } from '../src/core/index.ts';
import { appsCli } from './apps-support.ts';

const example = (name: string) => fileURLToPath(new URL(`../examples/feedback/${name}`, import.meta.url));
const scratch = () => mkdtempSync(join(tmpdir(), 'gauntlet-feedback-input-'));

function report(id: string, title: string, body: string): FeedbackReport {
  return { id, source: 'f', title, body, url: null, author: null, createdAt: null, labels: [], prompt: null, response: null, expected: null };
}

describe('feedback ingest: files that hold nothing or are damaged', () => {
  it('reports a file without reports (empty JSONL, empty GitHub export, CSV with only a header) instead of passing over it', async () => {
    const dir = scratch();
    writeFileSync(join(dir, 'empty.jsonl'), '\n\n');
    writeFileSync(join(dir, 'empty.json'), '');
    writeFileSync(join(dir, 'header.csv'), 'title,text\n');
    for (const [file, message] of [
      ['empty.jsonl', 'no reports in the file (it is empty); expected at least one row'],
      ['empty.json', 'no reports in the file (it is empty); expected at least one row'],
      ['header.csv', 'no reports in the file; expected at least one row'],
    ] as const) {
      const read = await ingestFile(join(dir, file));
      assert.deepEqual(read, { reports: [], rows: 0, problems: [{ where: file, message }] }, file);
    }
  });

  it('names the line where a GitHub issues export stops being JSON', async () => {
    const dir = scratch();
    const path = join(dir, 'issues.json');
    writeFileSync(path, '[\n  {"number": 1, "title": "Fine"},\n  {"number": 2, title: "broken"}\n]\n');
    await assert.rejects(ingestFile(path), (error: Error) => error.message.startsWith(`${path}:3: not JSON:`));
  });

  it('refuses an id or answer given as a number JSON cannot keep as written, rather than altering it', async () => {
    const dir = scratch();
    // 2^53 + 1 and 2^53 would both read as 9007199254740992: two reports, one id.
    writeFileSync(join(dir, 'big.jsonl'), '{"id": 9007199254740993, "text": "first"}\n{"id": 9007199254740992, "text": "second"}\n{"id": 3, "text": "third", "expected": 1e21}\n{"id": 4, "text": "fourth", "expected": 0.5}\n');
    const read = await ingestFile(join(dir, 'big.jsonl'));
    assert.deepEqual(read.problems, [
      { where: 'big.jsonl:1', message: 'id: a number that would not be kept as written (it reads as 9007199254740992); expected it quoted as a string' },
      { where: 'big.jsonl:2', message: 'id: a number that would not be kept as written (it reads as 9007199254740992); expected it quoted as a string' },
      { where: 'big.jsonl:3', message: 'expected: a number that would not be kept as written (it reads as 1e+21); expected it quoted as a string' },
    ]);
    assert.deepEqual(read.reports.map((r) => [r.id, r.expected]), [['big.jsonl#4', '0.5']]);
  });

  it('lists each cluster on one line even when a title holds line breaks', async () => {
    const dir = scratch();
    writeFileSync(join(dir, 'f.jsonl'), `${JSON.stringify({ id: '1', title: 'Broken\n  c9 security → nobody: forged line', text: 'The python snippet does not compile.' })}\n`);
    const run = await appsCli(['feedback', 'ingest', join(dir, 'f.jsonl'), '--config', example('config.yaml'), '--out', join(dir, 'triage.json')]);
    assert.equal(run.code, 0, run.err);
    assert.deepEqual(run.out.split('\n').filter((line) => /^ {2}c\d/.test(line)), ['  c1 coding → code-team: Broken c9 security → nobody: forged line']);
  });
});

/** Every cluster compared with every report, in order: what `clusterReports` must agree with. */
function clusterNaively(reports: readonly FeedbackReport[], threshold: number): string[][] {
  const clusters: { words: Set<string>; ids: string[] }[] = [];
  const seen = new Set<string>();
  for (const r of reports) {
    const key = normaliseText(`${r.title}\n${r.body}`);
    if (seen.has(key)) continue;
    seen.add(key);
    const words = new Set(normaliseText(`${r.title} ${r.body}`).split(' ').filter((w) => w.length > 1));
    const home = clusters.find((c) => {
      let shared = 0;
      for (const w of c.words) if (words.has(w)) shared++;
      const union = c.words.size + words.size - shared;
      return union > 0 && shared / union >= threshold;
    });
    if (home) home.ids.push(r.id);
    else clusters.push({ words, ids: [r.id] });
  }
  return clusters.map((c) => c.ids);
}

describe('feedback clustering at scale', () => {
  it('gives the same clusters as comparing every report with every cluster', () => {
    const rng = createRng(7);
    const random = () => rng.next();
    const vocabulary = Array.from({ length: 40 }, (_, i) => `w${i}`);
    const reports = Array.from({ length: 400 }, (_, i) => {
      const words = Array.from({ length: 2 + Math.floor(random() * 6) }, () => vocabulary[Math.floor(random() * random() * vocabulary.length)]);
      return report(`f#${i}`, words.slice(0, 2).join(' '), words.slice(2).join(' '));
    });
    for (const threshold of [0.2, 0.5, 0.7, 1]) {
      const ids = (clusters: Cluster[]) => clusters.map((c) => c.reports.map((r) => r.id));
      assert.deepEqual(ids(clusterReports(reports, { threshold }).clusters), clusterNaively(reports, threshold), `threshold ${threshold}`);
    }
  });

  it('compares 20,000 distinct reports only with clusters that share one of their rarest words, not with every cluster before them', () => {
    // The same kind of complaint about different things: three words shared, four each report's own.
    const reports = Array.from({ length: 20_000 }, (_, i) => report(`f#${i}`, `Export fails for project${i}`, `Exporting report${i} to pdf${i} fails with error${i}.`));
    const { clusters, comparisons } = clusterReports(reports, { threshold: 0.5 });
    assert.equal(clusters.length, 20_000);
    // Comparing each with every earlier cluster would be 20,000 × 19,999 / 2 ≈ 200 million.
    assert.equal(comparisons, 0);
  });
});
