// Reading feeds: RSS 2.0, Atom and arXiv-style listing files, from local files or URLs. A feed or
// an entry that cannot be read is reported (where, what) and skipped; the rest is kept.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import type * as FastXmlParser from 'fast-xml-parser';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { errorMessage, InputError, parseInput } from '../../core/index.ts';

export const FeedSource = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits and _ . -'),
    /** A path (relative to the feeds file) or an http(s) URL. */
    source: z.string().min(1),
    format: z.enum(['auto', 'rss', 'atom', 'arxiv']).default('auto'),
  })
  .strict();
export type FeedSource = z.infer<typeof FeedSource>;

export const FeedsFile = z.object({ feeds: z.array(FeedSource).min(1) }).strict();

export interface FeedItem {
  /** What deduplication compares: the arXiv id, else the normalised link, else the entry id. */
  key: string;
  feed: string;
  title: string;
  link: string;
  summary: string;
  published: string | null;
  authors: string[];
}

export interface Problem {
  where: string;
  message: string;
}

export interface FeedRead {
  items: FeedItem[];
  problems: Problem[];
  /** Entries read, counting the skipped ones. */
  entries: number;
}

export async function loadFeedsFile(path: string): Promise<{ feeds: FeedSource[]; base: string }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new InputError(path, `cannot read the feeds file: ${errorMessage(error)}`, 'a YAML file with `feeds: [{ name, source }]`');
  }
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (error) {
    throw new InputError(path, `not valid YAML: ${errorMessage(error)}`);
  }
  return { feeds: parseInput(FeedsFile, value, path).feeds, base: dirname(resolve(path)) };
}

const FETCH_TIMEOUT_MS = 20_000;
const SUMMARY_CHARS = 1_500;

/** Every feed's entries, with the problems of the feeds and entries that were skipped. */
export async function readFeeds(options: { feeds: readonly FeedSource[]; base: string; fetch?: typeof fetch; timeoutMs?: number }): Promise<FeedRead> {
  const read: FeedRead = { items: [], problems: [], entries: 0 };
  for (const feed of options.feeds) {
    const where = `feed ${feed.name} (${feed.source})`;
    let text: string;
    try {
      text = await loadSource(feed.source, { base: options.base, fetch: options.fetch ?? fetch, timeoutMs: options.timeoutMs ?? FETCH_TIMEOUT_MS });
    } catch (error) {
      read.problems.push({ where, message: errorMessage(error) });
      continue;
    }
    const parsed = parseFeed(text, { feed: feed.name, format: feed.format, where });
    read.items.push(...parsed.items);
    read.problems.push(...parsed.problems);
    read.entries += parsed.entries;
  }
  return read;
}

async function loadSource(source: string, options: { base: string; fetch: typeof fetch; timeoutMs: number }): Promise<string> {
  if (!/^https?:\/\//i.test(source)) return readFile(resolve(options.base, source), 'utf8');
  const response = await options.fetch(source, { signal: AbortSignal.timeout(options.timeoutMs) });
  if (!response.ok) throw new Error(`HTTP ${response.status} from ${source}`);
  return boundedText(response, source);
}

/** Far above any feed's size; what a misbehaving server sends past it is not held in memory. */
export const MAX_FEED_BYTES = 32 * 1024 * 1024;

async function boundedText(response: Response, source: string): Promise<string> {
  if (!response.body) return '';
  const decoder = new TextDecoder();
  let text = '';
  let bytes = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return text + decoder.decode();
    bytes += value.byteLength;
    if (bytes > MAX_FEED_BYTES) {
      await reader.cancel().catch(() => undefined);
      throw new Error(`${source} sent more than ${MAX_FEED_BYTES} bytes; a feed is expected to be far smaller`);
    }
    text += decoder.decode(value, { stream: true });
  }
}

export function parseFeed(text: string, options: { feed: string; format: FeedSource['format']; where: string }): FeedRead {
  const format = options.format === 'auto' ? detectFormat(text) : options.format;
  if (format === null) return { items: [], problems: [{ where: options.where, message: 'neither XML (RSS/Atom) nor an arXiv listing' }], entries: 0 };
  if (format === 'arxiv') return parseArxivListing(text, options);
  return parseXmlFeed(text, { ...options, format });
}

function detectFormat(text: string): 'rss' | 'atom' | 'arxiv' | null {
  const head = text.trimStart();
  if (head.startsWith('<')) return /<feed[\s>]/.test(head.slice(0, 2_000)) ? 'atom' : 'rss';
  return /^arXiv:\S+/m.test(text) ? 'arxiv' : null;
}

let xml: { parser: FastXmlParser.XMLParser; validator: typeof FastXmlParser.XMLValidator } | undefined;

/** The XML parser, loaded on the first feed read (parsing is synchronous, so through its CommonJS build): only the radar needs it. */
function xmlParsing(): NonNullable<typeof xml> {
  if (!xml) {
    const packages = createRequire(import.meta.url);
    const { XMLParser, XMLValidator } = packages('fast-xml-parser') as typeof FastXmlParser;
    const parser = new XMLParser({
      ignoreAttributes: false,
      attributeNamePrefix: '@_',
      textNodeName: '#text',
      isArray: (name) => ['item', 'entry', 'link', 'author', 'category'].includes(name),
    });
    xml = { parser, validator: XMLValidator };
  }
  return xml;
}

type XmlNode = string | number | boolean | { [key: string]: XmlNode } | XmlNode[] | undefined;

function textOf(node: XmlNode): string {
  if (node === undefined) return '';
  if (typeof node !== 'object') return String(node);
  if (Array.isArray(node)) return node.length > 0 ? textOf(node[0]) : '';
  return textOf(node['#text']);
}

function parseXmlFeed(text: string, options: { feed: string; format: 'rss' | 'atom'; where: string }): FeedRead {
  const { parser, validator } = xmlParsing();
  const valid = validator.validate(text);
  if (valid !== true) return { items: [], problems: [{ where: `${options.where}:${valid.err.line}`, message: `not well-formed XML: ${valid.err.msg}` }], entries: 0 };
  const doc = parser.parse(text) as { [key: string]: XmlNode };
  const entries = options.format === 'rss' ? asArray(child(child(doc.rss, 'channel'), 'item')) : asArray(child(doc.feed, 'entry'));
  const rootOk = options.format === 'rss' ? doc.rss !== undefined : doc.feed !== undefined;
  if (!rootOk) return { items: [], problems: [{ where: options.where, message: `expected a <${options.format === 'rss' ? 'rss' : 'feed'}> document` }], entries: 0 };
  const read: FeedRead = { items: [], problems: [], entries: entries.length };
  entries.forEach((entry, index) => {
    const where = `${options.where}: ${options.format === 'rss' ? 'item' : 'entry'} ${index + 1}`;
    const item = options.format === 'rss' ? rssItem(entry, options.feed) : atomEntry(entry, options.feed);
    if (typeof item === 'string') read.problems.push({ where, message: item });
    else read.items.push(item);
  });
  return read;
}

function child(node: XmlNode, key: string): XmlNode {
  return node !== null && typeof node === 'object' && !Array.isArray(node) ? node[key] : undefined;
}

function asArray(node: XmlNode): XmlNode[] {
  if (node === undefined) return [];
  return Array.isArray(node) ? node : [node];
}

function rssItem(entry: XmlNode, feed: string): FeedItem | string {
  const title = clean(textOf(child(entry, 'title')));
  const link = textOf(child(entry, 'link')).trim();
  const guid = textOf(child(entry, 'guid')).trim();
  if (!title) return 'no <title>';
  if (!isUrl(link)) return link ? `<link> '${link}' is not an http(s) URL` : 'no <link>';
  const creator = textOf(child(entry, 'dc:creator')) || textOf(child(entry, 'author'));
  return {
    key: itemKey(link, guid),
    feed,
    title,
    link,
    summary: summarise(textOf(child(entry, 'description'))),
    published: dateOf(textOf(child(entry, 'pubDate'))),
    authors: creator ? [clean(creator)] : [],
  };
}

function atomEntry(entry: XmlNode, feed: string): FeedItem | string {
  const title = clean(textOf(child(entry, 'title')));
  const links = asArray(child(entry, 'link'));
  const alternate = links.find((l) => ['alternate', ''].includes(String(child(l, '@_rel') ?? ''))) ?? links[0];
  const link = String(child(alternate, '@_href') ?? '').trim();
  const id = textOf(child(entry, 'id')).trim();
  if (!title) return 'no <title>';
  if (!isUrl(link)) return link ? `<link href> '${link}' is not an http(s) URL` : 'no <link href>';
  return {
    key: itemKey(link, id),
    feed,
    title,
    link,
    summary: summarise(textOf(child(entry, 'summary')) || textOf(child(entry, 'content'))),
    published: dateOf(textOf(child(entry, 'published')) || textOf(child(entry, 'updated'))),
    authors: asArray(child(entry, 'author')).map((a) => clean(textOf(child(a, 'name')))).filter(Boolean),
  };
}

/**
 * arXiv's listing format: entries between rules of dashes, each `arXiv:ID`, `Key: value` headers
 * (continued on indented lines), then the abstract between `\\` lines.
 */
function parseArxivListing(text: string, options: { feed: string; where: string }): FeedRead {
  const blocks = text.split(/^-{10,}\s*$/m).filter((b) => /^arXiv:/m.test(b));
  const read: FeedRead = { items: [], problems: [], entries: blocks.length };
  blocks.forEach((block, index) => {
    const where = `${options.where}: entry ${index + 1}`;
    const item = arxivEntry(block, options.feed);
    if (typeof item === 'string') read.problems.push({ where, message: item });
    else read.items.push(item);
  });
  if (blocks.length === 0) read.problems.push({ where: options.where, message: 'no `arXiv:ID` entries' });
  return read;
}

function arxivEntry(block: string, feed: string): FeedItem | string {
  const id = /^arXiv:(\S+)/m.exec(block)?.[1];
  if (!id || !/^\d{4}\.\d{4,5}(v\d+)?$/.test(id)) return `'arXiv:${id ?? ''}' is not an arXiv id like 2501.01234`;
  const parts = block.split(/^\\\\/m);
  const headers = new Map<string, string>();
  let last: string | null = null;
  for (const line of (parts[1] ?? block).split('\n')) {
    const field = /^([A-Za-z-]+):\s*(.*)$/.exec(line);
    if (field?.[1] && field[2] !== undefined) {
      last = field[1].toLowerCase();
      headers.set(last, field[2]);
    } else if (last && /^\s+\S/.test(line)) headers.set(last, `${headers.get(last) ?? ''} ${line.trim()}`);
  }
  const title = clean(headers.get('title') ?? '');
  if (!title) return 'no Title: header';
  const abstract = parts[2] ?? '';
  const linkMatch = /\(\s*(https?:\/\/\S+)/.exec(parts[3] ?? '');
  const link = linkMatch?.[1] ?? `https://arxiv.org/abs/${id}`;
  return {
    key: `arxiv:${id.replace(/v\d+$/, '')}`,
    feed,
    title,
    link,
    summary: summarise(abstract),
    published: dateOf(headers.get('date') ?? ''),
    authors: (headers.get('authors') ?? '').split(/,\s*|\s+and\s+/).map(clean).filter(Boolean),
  };
}

function itemKey(link: string, id: string): string {
  const arxiv = /arxiv\.org\/(?:abs|pdf)\/(\d{4}\.\d{4,5})/.exec(link);
  if (arxiv) return `arxiv:${arxiv[1]}`;
  return normaliseUrl(link) ?? `id:${id}`;
}

/** The same page under http/https, with or without `www.`, a trailing slash or tracking parameters. */
export function normaliseUrl(link: string): string | null {
  let url: URL;
  try {
    url = new URL(link);
  } catch (_error) {
    return null;
  }
  for (const name of [...url.searchParams.keys()]) if (/^utm_|^ref$/.test(name)) url.searchParams.delete(name);
  url.hash = '';
  const host = url.hostname.replace(/^www\./, '');
  return `${host}${url.pathname.replace(/\/+$/, '')}${url.search}`;
}

function isUrl(text: string): boolean {
  return /^https?:\/\/\S+$/i.test(text);
}

function clean(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

function summarise(html: string): string {
  const plain = clean(html.replace(/<[^>]*>/g, ' ').replace(/&nbsp;/g, ' ').replace(/&amp;/g, '&').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'"));
  return plain.length > SUMMARY_CHARS ? `${plain.slice(0, SUMMARY_CHARS - 1)}…` : plain;
}

function dateOf(text: string): string | null {
  const ms = Date.parse(text.trim());
  return text.trim() && Number.isFinite(ms) ? new Date(ms).toISOString() : null;
}
