// The dated digest, in Markdown and as a self-contained HTML page, every item with its link.
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError } from '../../core/index.ts';
import type { FeedItem } from './feeds.ts';
import type { RadarResult } from './radar.ts';

export function renderDigestMarkdown(result: RadarResult): string {
  const lines = [`# Research radar — ${result.date}`, '', summaryLine(result), ''];
  for (const section of result.sections) {
    lines.push(`## ${mdText(section.subject.name)}`, '');
    lines.push(section.digest !== null ? mdProse(section.digest) : `_No digest: ${mdText(section.failure ?? 'unknown')}._`, '');
    section.items.forEach((item, i) => lines.push(`${i + 1}. ${mdLink(item)} — ${item.feed}${item.published ? `, ${item.published.slice(0, 10)}` : ''}`));
    lines.push('');
  }
  if (result.unassigned.length > 0) {
    lines.push('## Other items', '');
    for (const item of result.unassigned) lines.push(`- ${mdLink(item)} — ${item.feed}`);
    lines.push('');
  }
  if (result.unsorted.length > 0) {
    lines.push('## Not sorted this time (retried on the next run)', '');
    for (const { item, reason } of result.unsorted) lines.push(`- ${mdLink(item)} — ${mdText(reason)}`);
    lines.push('');
  }
  if (result.read.problems.length > 0) {
    lines.push(`## Skipped input (${result.read.problems.length})`, '');
    for (const p of result.read.problems) lines.push(`- ${mdText(p.where)}: ${mdText(p.message)}`);
    lines.push('');
  }
  return `${lines.join('\n').trimEnd()}\n`;
}

export function renderDigestHtml(result: RadarResult): string {
  const body: string[] = [`<h1>Research radar — ${esc(result.date)}</h1>`, `<p class="meta">${esc(summaryLine(result))}</p>`];
  for (const section of result.sections) {
    body.push(`<section><h2>${esc(section.subject.name)}</h2>`);
    body.push(section.digest ? paragraphs(section.digest, section.items) : `<p><em>No digest: ${esc(section.failure ?? 'unknown')}.</em></p>`);
    body.push(`<ol>${section.items.map((item, i) => `<li id="${esc(section.subject.id)}-${i + 1}">${link(item)} <span class="meta">${esc(item.feed)}</span></li>`).join('')}</ol></section>`);
  }
  if (result.unassigned.length > 0) body.push(`<section><h2>Other items</h2><ul>${result.unassigned.map((item) => `<li>${link(item)}</li>`).join('')}</ul></section>`);
  if (result.unsorted.length > 0) body.push(`<section><h2>Not sorted this time</h2><ul>${result.unsorted.map(({ item, reason }) => `<li>${link(item)} — ${esc(reason)}</li>`).join('')}</ul></section>`);
  if (result.read.problems.length > 0) body.push(`<section><h2>Skipped input (${result.read.problems.length})</h2><ul>${result.read.problems.map((p) => `<li>${esc(p.where)}: ${esc(p.message)}</li>`).join('')}</ul></section>`);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Research radar — ${esc(result.date)}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:48rem;margin:2rem auto;padding:0 1rem}.meta{color:#666;font-size:.9em}</style>
</head><body>
${body.join('\n')}
</body></html>
`;
}

/** Writes `radar-<date>.md` and `.html` (`radar-<date>-2.…` when that day already has one). */
export async function writeDigest(result: RadarResult, outDir: string): Promise<{ markdown: string; html: string }> {
  // The date names the files: anything but a date could name a path outside `outDir`.
  if (!/^\d{4}-\d{2}-\d{2}$/.test(result.date)) throw new InputError('digest date', `'${result.date.slice(0, 40)}' is not a date`, 'YYYY-MM-DD');
  await mkdir(outDir, { recursive: true });
  let stem = join(outDir, `radar-${result.date}`);
  for (let n = 2; existsSync(`${stem}.md`); n++) stem = join(outDir, `radar-${result.date}-${n}`);
  const paths = { markdown: `${stem}.md`, html: `${stem}.html` };
  await writeFile(paths.markdown, renderDigestMarkdown(result));
  await writeFile(paths.html, renderDigestHtml(result));
  return paths;
}

function summaryLine(result: RadarResult): string {
  const sorted = result.sections.reduce((n, s) => n + s.items.length, 0) + result.unassigned.length;
  return `${sorted} new item${sorted === 1 ? '' : 's'} from ${result.read.feeds} feed${result.read.feeds === 1 ? '' : 's'}; ${result.duplicates.seenBefore} seen before, ${result.duplicates.inThisBatch} duplicate${result.duplicates.inThisBatch === 1 ? '' : 's'} in this batch, ${result.read.skipped} skipped, ${result.unsorted.length} not sorted.`;
}

/**
 * Feed text (and messages quoting it) as literal Markdown: a title must not open a link, an image,
 * code or raw HTML in whatever renders the digest. Backslash escapes work for any ASCII punctuation.
 */
function mdText(text: string): string {
  return text.replace(/[\\`*_[\]<>&|~!]/g, '\\$&').replace(/\s+/g, ' ');
}

/** Links are http(s) URLs in canonical form (feeds.ts); parentheses are encoded so none ends the destination early. */
function mdLink(item: FeedItem): string {
  return `[${mdText(item.title)}](${item.link.replace(/[()\s]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`)})`;
}

/**
 * The model's digest is Markdown on purpose, but the model read hostile feed text: raw HTML is
 * escaped and a link or image whose target is not http(s) (`javascript:`, `data:`, `file:`) is
 * left as plain text.
 */
function mdProse(text: string): string {
  // An entity, not a backslash: a backslash the model put before it would cancel ours.
  return text
    .replace(/</g, '&lt;')
    .replace(/\]\(\s*(?:&lt;)?\s*([^)\s&]*)/g, (whole, target: string) => (/^(https?:\/\/|#)/i.test(target) ? whole : `]\\${whole.slice(1)}`))
    .replace(/^(\s*)(\[[^\]\n]*\]:\s*)(\S+)/gm, (whole, indent: string, label: string, target: string) => (/^(?:&lt;)?(https?:\/\/|#)/i.test(target) ? whole : `${indent}\\${label}${target}`));
}

function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function link(item: FeedItem): string {
  return `<a href="${esc(item.link)}">${esc(item.title)}</a>`;
}

/** The model's text as escaped paragraphs, its `[n]` references linked to the items (never raw HTML). */
function paragraphs(text: string, items: readonly FeedItem[]): string {
  return text
    .split(/\n{2,}/)
    .map((p) => `<p>${esc(p.trim()).replace(/\[(\d+)\]/g, (whole, n: string) => (items[Number(n) - 1] ? `<a href="${esc(items[Number(n) - 1]?.link ?? '')}">[${n}]</a>` : whole))}</p>`)
    .join('\n');
}
