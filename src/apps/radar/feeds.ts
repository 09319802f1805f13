// Reading feeds: RSS 2.0, Atom and arXiv-style listing files, from local files or URLs. A feed or
// an entry that cannot be read is reported (where, what) and skipped; the rest is kept.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import type * as FastXmlParser from 'fast-xml-parser';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { errorMessage, InputError, parseInput } from '../../core/index.ts';
import type { AddressCheck } from './addresses.ts';
import { loadSource, redactUrl } from './fetch.ts';

export { MAX_FEED_BYTES } from './fetch.ts';

export const FeedSource = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits and _ . -'),
    /** A path (relative to the feeds file) or an http(s) URL. */
    source: z.string().min(1),
    format: z.enum(['auto', 'rss', 'atom', 'arxiv']).default('auto'),
    /**
     * The feed's host name may resolve to a loopback, private or link-local address (a feed on
     * the local network). Without it, a name must resolve to public addresses only; a host
     * written as such an address, or `localhost`, is allowed as written either way.
     */
    allowPrivateAddresses: z.boolean().optional(),
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
/** Titles go into every prompt and the digest; a real one is a line, not megabytes. */
export const MAX_TITLE_CHARS = 300;
/** Each entry costs a classifier agent; a feed with more than this is a flood, not a feed. */
export const MAX_ENTRIES_PER_FEED = 5_000;
const MAX_LINK_CHARS = 2_048;

/** Every feed's entries, with the problems of the feeds and entries that were skipped. */
export async function readFeeds(options: { feeds: readonly FeedSource[]; base: string; fetch?: typeof fetch; timeoutMs?: number; addressCheck?: AddressCheck }): Promise<FeedRead> {
  const read: FeedRead = { items: [], problems: [], entries: 0 };
  for (const feed of options.feeds) {
    // The digest is shared: a token in the feed URL's user part stays out of it.
    const where = `feed ${feed.name} (${redactUrl(feed.source)})`;
    let text: string;
    try {
      text = await loadSource(feed.source, {
        base: options.base,
        timeoutMs: options.timeoutMs ?? FETCH_TIMEOUT_MS,
        ...(feed.allowPrivateAddresses ? { allowPrivateAddresses: true } : {}),
        ...(options.fetch ? { fetch: options.fetch } : {}),
        ...(options.addressCheck ? { addressCheck: options.addressCheck } : {}),
      });
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
  let doc: { [key: string]: XmlNode };
  try {
    const valid = validator.validate(text);
    if (valid !== true) return { items: [], problems: [{ where: `${options.where}:${valid.err.line}`, message: `not well-formed XML: ${valid.err.msg}` }], entries: 0 };
    doc = parser.parse(text) as { [key: string]: XmlNode };
  } catch (error) {
    // The parser throws on what it refuses (external entities, nesting past its limit): one bad
    // feed must not stop the others.
    return { items: [], problems: [{ where: options.where, message: `cannot be parsed as XML: ${errorMessage(error)}` }], entries: 0 };
  }
  const entries = options.format === 'rss' ? asArray(child(child(doc.rss, 'channel'), 'item')) : asArray(child(doc.feed, 'entry'));
  const rootOk = options.format === 'rss' ? doc.rss !== undefined : doc.feed !== undefined;
  if (!rootOk) return { items: [], problems: [{ where: options.where, message: `expected a <${options.format === 'rss' ? 'rss' : 'feed'}> document` }], entries: 0 };
  const read: FeedRead = { items: [], problems: [], entries: entries.length };
  capEntries(entries, read, options.where).forEach((entry, index) => {
    const where = `${options.where}: ${options.format === 'rss' ? 'item' : 'entry'} ${index + 1}`;
    const item = options.format === 'rss' ? rssItem(entry, options.feed) : atomEntry(entry, options.feed);
    if (typeof item === 'string') read.problems.push({ where, message: item });
    else read.items.push(item);
  });
  return read;
}

/** The first MAX_ENTRIES_PER_FEED entries; the rest are reported as one problem, not read. */
function capEntries<T>(entries: readonly T[], read: FeedRead, where: string): readonly T[] {
  if (entries.length <= MAX_ENTRIES_PER_FEED) return entries;
  read.problems.push({ where, message: `${entries.length} entries; only the first ${MAX_ENTRIES_PER_FEED} were read (${entries.length - MAX_ENTRIES_PER_FEED} skipped)` });
  return entries.slice(0, MAX_ENTRIES_PER_FEED);
}

function child(node: XmlNode, key: string): XmlNode {
  return node !== null && typeof node === 'object' && !Array.isArray(node) ? node[key] : undefined;
}

function asArray(node: XmlNode): XmlNode[] {
  if (node === undefined) return [];
  return Array.isArray(node) ? node : [node];
}

function rssItem(entry: XmlNode, feed: string): FeedItem | string {
  const title = titleOf(textOf(child(entry, 'title')));
  const raw = textOf(child(entry, 'link')).trim();
  const guid = textOf(child(entry, 'guid')).trim();
  if (!title) return 'no <title>';
  const link = webLink(raw);
  if (!link.ok) return raw ? `<link> ${link.why}` : 'no <link>';
  const creator = textOf(child(entry, 'dc:creator')) || textOf(child(entry, 'author'));
  return {
    key: itemKey(link.href, guid),
    feed,
    title,
    link: link.href,
    summary: summarise(textOf(child(entry, 'description'))),
    published: dateOf(textOf(child(entry, 'pubDate'))),
    authors: creator ? [clean(creator)] : [],
  };
}

function atomEntry(entry: XmlNode, feed: string): FeedItem | string {
  const title = titleOf(textOf(child(entry, 'title')));
  const links = asArray(child(entry, 'link'));
  const alternate = links.find((l) => ['alternate', ''].includes(String(child(l, '@_rel') ?? ''))) ?? links[0];
  const raw = String(child(alternate, '@_href') ?? '').trim();
  const id = textOf(child(entry, 'id')).trim();
  if (!title) return 'no <title>';
  const link = webLink(raw);
  if (!link.ok) return raw ? `<link href> ${link.why}` : 'no <link href>';
  return {
    key: itemKey(link.href, id),
    feed,
    title,
    link: link.href,
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
  capEntries(blocks, read, options.where).forEach((block, index) => {
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
  const title = titleOf(headers.get('title') ?? '');
  if (!title) return 'no Title: header';
  const abstract = parts[2] ?? '';
  const linkMatch = /\(\s*(https?:\/\/\S+)/.exec(parts[3] ?? '');
  const link = webLink(linkMatch?.[1] ?? `https://arxiv.org/abs/${id}`);
  if (!link.ok) return `the entry's link ${link.why}`;
  return {
    key: `arxiv:${id.replace(/v\d+$/, '')}`,
    feed,
    title,
    link: link.href,
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

/**
 * A link the digest may show: an absolute http(s) URL that parses, without credentials (they would
 * be published, and `https://trusted@evil/` hides where it goes), in the parser's canonical form
 * (`<`, `>`, quotes and spaces percent-encoded).
 */
function webLink(text: string): { ok: true; href: string } | { ok: false; why: string } {
  const safe = redactUrl(text);
  const shown = safe.length > 100 ? `'${safe.slice(0, 100)}…'` : `'${safe}'`;
  if (text.length > MAX_LINK_CHARS) return { ok: false, why: `is ${text.length} characters long; expected a URL under ${MAX_LINK_CHARS}` };
  if (!/^https?:\/\/\S+$/i.test(text)) return { ok: false, why: `${shown} is not an http(s) URL` };
  let url: URL;
  try {
    url = new URL(text);
  } catch (_error) {
    return { ok: false, why: `${shown} is not a URL` };
  }
  if (url.username || url.password) return { ok: false, why: `${shown} carries a user name or password; expected a plain http(s) URL` };
  return { ok: true, href: url.href };
}

/** A title on one line, cut (marked with …) at MAX_TITLE_CHARS. */
function titleOf(text: string): string {
  const title = clean(text);
  return title.length > MAX_TITLE_CHARS ? `${title.slice(0, MAX_TITLE_CHARS - 1)}…` : title;
}

function clean(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

function summarise(html: string): string {
  const plain = clean(html.replace(/<[^>]*>/g, ' ').replace(/&nbsp;/g, ' ').replace(/&amp;/g, '&').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'"));
  return plain.length > SUMMARY_CHARS ? `${plain.slice(0, SUMMARY_CHARS - 1)}…` : plain;
}

/**
 * RFC 822 (RSS) or ISO 8601 (Atom, arXiv) dates with a four-digit year; anything else is no date,
 * since Date.parse reads garbage like "1" as 2001-01-01.
 */
function dateOf(text: string): string | null {
  const trimmed = text.trim();
  const rfc822 = /^(?:[A-Za-z]{3},\s*)?\d{1,2}\s+[A-Za-z]{3}\s+\d{4}\s+\d{1,2}:\d{2}/.test(trimmed);
  const iso = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:Z|[+-]\d{2}:?\d{2})?)?$/i.test(trimmed);
  if (!rfc822 && !iso) return null;
  const ms = Date.parse(trimmed);
  return Number.isFinite(ms) ? new Date(ms).toISOString() : null;
}
