// The radar's inputs as a hostile feed server would send them: each case is a defect that was
// found this way, kept as a test.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { describe, it } from 'node:test';
import { renderDigestHtml, renderDigestMarkdown, writeDigest } from '../src/apps/radar/digest.ts';
import { addressRefusal, AddressRefused, checkedAddresses, type ResolveHost } from '../src/apps/radar/addresses.ts';
import { isInternalHost, MAX_REDIRECTS, redirectRefusal } from '../src/apps/radar/fetch.ts';
import { MAX_ENTRIES_PER_FEED, MAX_FEED_BYTES, MAX_TITLE_CHARS, parseFeed, readFeeds, type FeedItem, type FeedSource } from '../src/apps/radar/feeds.ts';
import type { RadarResult } from '../src/apps/radar/radar.ts';
import { startMockModelServer } from '../src/model/index.ts';
import { appsCli } from './apps-support.ts';

const example = (name: string) => fileURLToPath(new URL(`../examples/radar/${name}`, import.meta.url));
const scratch = () => mkdtempSync(join(tmpdir(), 'gauntlet-radar-attack-'));
const options = { feed: 'f', format: 'auto' as const, where: 'f' };
const rss = (items: string, declaration = '<?xml version="1.0"?>') => `${declaration}<rss><channel>${items}</channel></rss>`;
const item = (title: string, link: string, extra = '') => `<item><title>${title}</title><link>${link}</link>${extra}</item>`;
const feed = (name: string, source: string, extra: Partial<FeedSource> = {}): FeedSource => ({ name, source, format: 'auto', ...extra });

async function serve(handler: RequestListener): Promise<{ server: Server; base: string; close: () => Promise<void> }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { server, base, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe('radar feeds under attack', () => {
  it('reports a feed the XML parser refuses (external entity, nesting past its limit) and keeps reading the others', async () => {
    const dir = scratch();
    writeFileSync(join(dir, 'xxe.rss'), rss(item('a&x;', 'https://example.org/a')).replace('?>', '?><!DOCTYPE rss [<!ENTITY x SYSTEM "file:///etc/passwd">]>'));
    writeFileSync(join(dir, 'deep.rss'), rss(item('deep', 'https://example.org/d', `<x>${'<a>'.repeat(100_000)}${'</a>'.repeat(100_000)}</x>`)));
    writeFileSync(join(dir, 'good.rss'), rss(item('A good paper', 'https://example.org/good')));
    const read = await readFeeds({ feeds: [feed('xxe', 'xxe.rss'), feed('deep', 'deep.rss'), feed('good', 'good.rss')], base: dir });
    assert.deepEqual(read.items.map((i) => i.title), ['A good paper']);
    assert.deepEqual(read.problems.map((p) => p.where), ['feed xxe (xxe.rss)', 'feed deep (deep.rss)']);
    assert.match(read.problems[0]!.message, /cannot be parsed as XML: .*external entities/i);
    assert.match(read.problems[1]!.message, /cannot be parsed as XML: .*nested/i);
  });

  it('does not follow a redirect to another loopback host, to file:, or past MAX_REDIRECTS, and says which hop it refused', async () => {
    const internal = await serve((_req, res) => res.end(rss(item('SECRET from an internal service', 'https://example.org/secret'))));
    const internalPort = (internal.server.address() as AddressInfo).port;
    let hops = 0;
    const feeds = await serve((req, res) => {
      if (req.url === '/to-internal') res.writeHead(302, { location: `http://localhost:${internalPort}/latest/meta-data` }).end();
      else if (req.url === '/to-metadata') res.writeHead(301, { location: 'http://169.254.169.254/latest/meta-data/' }).end();
      else if (req.url === '/to-file') res.writeHead(302, { location: 'file:///etc/passwd' }).end();
      else if (req.url === '/loop') {
        hops++;
        res.writeHead(307, { location: '/loop' }).end();
      } else if (req.url === '/moved') res.writeHead(308, { location: '/feed.rss' }).end();
      else res.end(rss(item('Same-host move', 'https://example.org/moved')));
    });
    try {
      const read = await readFeeds({
        feeds: [feed('internal', `${feeds.base}/to-internal`), feed('metadata', `${feeds.base}/to-metadata`), feed('file', `${feeds.base}/to-file`), feed('loop', `${feeds.base}/loop`), feed('moved', `${feeds.base}/moved`)],
        base: '.',
      });
      assert.deepEqual(read.items.map((i) => i.title), ['Same-host move']);
      const messages = read.problems.map((p) => p.message);
      assert.match(messages[0]!, new RegExp(`refused the redirect from ${feeds.base}/to-internal to http://localhost:${internalPort}/latest/meta-data: the target is a loopback, private, link-local or metadata address`));
      assert.match(messages[1]!, /refused the redirect .* to http:\/\/169\.254\.169\.254\/latest\/meta-data\/: the target is a loopback/);
      assert.match(messages[2]!, /refused the redirect .* to file:\/\/\/etc\/passwd: a file: URL; only http\(s\) is followed/);
      assert.match(messages[3]!, new RegExp(`more than ${MAX_REDIRECTS} redirects from ${feeds.base}/loop`));
      assert.equal(hops, MAX_REDIRECTS + 1);
    } finally {
      await feeds.close();
      await internal.close();
    }
  });

  it('refuses redirects that downgrade to http, carry credentials, or name internal addresses in any spelling', () => {
    const from = new URL('https://feeds.example.org/rss');
    assert.match(redirectRefusal(from, new URL('http://feeds.example.org/rss')) ?? '', /drops from https to plain http/);
    assert.match(redirectRefusal(from, new URL('https://user:pw@cdn.example.org/rss')) ?? '', /credentials/);
    assert.equal(redirectRefusal(from, new URL('https://cdn.example.org/rss')), null);
    for (const host of ['http://2130706433/', 'http://0x7f.1/', 'http://[::1]/', 'http://[::ffff:169.254.169.254]/', 'http://10.1.2.3/', 'http://192.168.0.1/', 'http://metadata.google.internal/', 'http://[fe80::1]/', 'http://[fd00::1]/', 'http://0.0.0.0/']) {
      assert.ok(isInternalHost(new URL(host).hostname), host);
    }
    assert.ok(!isInternalHost('feeds.example.org'));
    assert.ok(!isInternalHost('8.8.8.8'));
  });

  it('refuses a redirect to a name that resolves to a loopback, private, metadata or IPv4-mapped address, naming the feed, host, address and why', async () => {
    const answers: Record<string, string[]> = {
      'loop.test': ['127.0.0.1'],
      'private.test': ['10.0.0.1'],
      'mapped.test': ['::ffff:127.0.0.1'],
      'metadata.test': ['169.254.169.254'],
      // One private address among public ones: the resolver's order is not to be trusted.
      'mixed.test': ['93.184.215.14', '2606:2800:21f:cb07:6820:80da:af6b:8b2c', '10.0.0.1'],
    };
    const asked: string[] = [];
    const resolveHost: ResolveHost = (name) => {
      asked.push(name);
      return Promise.resolve(answers[name] ?? []);
    };
    let secrets = 0;
    const server = await serve((req, res) => {
      const port = (server.server.address() as AddressInfo).port;
      const name = /^\/to-(\w+)$/.exec(req.url ?? '')?.[1];
      if (name) res.writeHead(302, { location: `http://${name}.test:${port}/secret` }).end();
      else {
        secrets++;
        res.end(rss(item('SECRET from an internal service', 'https://example.org/secret')));
      }
    });
    try {
      const names = Object.keys(answers).map((host) => host.replace('.test', ''));
      const read = await readFeeds({ feeds: names.map((name) => feed(name, `${server.base}/to-${name}`)), base: '.', addressCheck: { resolveHost } });
      const port = (server.server.address() as AddressInfo).port;
      assert.equal(secrets, 0, 'no refused redirect reached the server');
      assert.deepEqual(read.items, []);
      assert.deepEqual(asked, Object.keys(answers), 'each name is resolved once');
      assert.deepEqual(read.problems.map((p) => p.where), names.map((name) => `feed ${name} (${server.base}/to-${name})`));
      const refused = (name: string, why: string) => `refused the redirect from ${server.base}/to-${name} to http://${name}.test:${port}/secret: ${why}; a redirect may only reach public addresses`;
      assert.deepEqual(read.problems.map((p) => p.message), [
        refused('loop', 'loop.test resolves to 127.0.0.1, a loopback address'),
        refused('private', 'private.test resolves to 10.0.0.1, a private address'),
        refused('mapped', 'mapped.test resolves to ::ffff:127.0.0.1, a loopback address'),
        refused('metadata', 'metadata.test resolves to 169.254.169.254, a link-local address (where cloud metadata services answer)'),
        refused('mixed', 'mixed.test resolves to 10.0.0.1, a private address'),
      ]);
    } finally {
      await server.close();
    }
  });

  it('connects a redirect to the very address its name was checked at, resolving it once, and still reads a feed listed on localhost', async () => {
    const asked: string[] = [];
    // mirror.test rebinds: its first answer passes the check, every later one is the metadata service.
    // localhost answers on the IPv4-mapped loopback, which a checked connection would refuse.
    const resolveHost: ResolveHost = (name) => {
      asked.push(name);
      if (name === 'localhost') return Promise.resolve(['::ffff:127.0.0.1']);
      return Promise.resolve(asked.filter((n) => n === name).length === 1 ? ['127.0.0.1'] : ['169.254.169.254']);
    };
    // No public address can be served here: the test lets 127.0.0.1 stand in for one.
    const refusal = (address: string) => (address === '127.0.0.1' ? null : addressRefusal(address));
    const hosts: string[] = [];
    const server = await serve((req, res) => {
      hosts.push(req.headers.host ?? '');
      const port = (server.server.address() as AddressInfo).port;
      if (req.url === '/moved') res.writeHead(301, { location: `http://mirror.test:${port}/feed.rss` }).end();
      else res.end(rss(item(`Read through ${req.headers.host}`, `https://example.org/${hosts.length}`)));
    });
    try {
      const port = (server.server.address() as AddressInfo).port;
      const read = await readFeeds({ feeds: [feed('moved', `${server.base}/moved`), feed('listed', `http://localhost:${port}/feed.rss`)], base: '.', addressCheck: { resolveHost, refusal } });
      assert.deepEqual(read.problems, []);
      assert.deepEqual(read.items.map((i) => i.title), [`Read through mirror.test:${port}`, `Read through localhost:${port}`]);
      assert.deepEqual(asked, ['mirror.test', 'localhost'], 'each name was resolved once, for its one connection');
    } finally {
      await server.close();
    }
  });

  it('refuses a listed feed whose host name resolves to a private address unless the feed allows private addresses', async () => {
    // rebound.test is a public-looking name whose DNS answers with the metadata service's address.
    const resolveHost: ResolveHost = (name) => Promise.resolve(name === 'rebound.test' ? ['169.254.169.254'] : name === 'lan.test' ? ['::ffff:127.0.0.1'] : []);
    let served = 0;
    const server = await serve((_req, res) => {
      served++;
      res.end(rss(item('Read on the local network', 'https://example.org/lan')));
    });
    try {
      const port = (server.server.address() as AddressInfo).port;
      const read = await readFeeds({
        feeds: [feed('rebound', `http://rebound.test:${port}/feed.rss`), feed('lan', `http://lan.test:${port}/feed.rss`, { allowPrivateAddresses: true }), feed('literal', `${server.base}/feed.rss`)],
        base: '.',
        addressCheck: { resolveHost },
      });
      assert.deepEqual(read.problems.map((p) => p.message), [
        `refused to fetch http://rebound.test:${port}/feed.rss: rebound.test resolves to 169.254.169.254, a link-local address (where cloud metadata services answer); a feed's host name must resolve to public addresses unless the feed sets allowPrivateAddresses: true`,
      ]);
      assert.deepEqual(read.items.map((i) => i.feed), ['lan', 'literal'], 'a feed allowed private addresses, and one listed at a literal loopback address, are read');
      assert.equal(served, 2);
    } finally {
      await server.close();
    }
  });

  it('trusts the listed feed\'s host only until a redirect leaves it: a hop back is checked like any other', async () => {
    // home.test (listed, allowed private addresses) answers on the IPv4-mapped loopback; mirror.test on 127.0.0.1, which stands in for a public address.
    const resolveHost: ResolveHost = (name) => Promise.resolve(name === 'home.test' ? ['::ffff:127.0.0.1'] : ['127.0.0.1']);
    const refusal = (address: string) => (address === '127.0.0.1' ? null : addressRefusal(address));
    const paths: string[] = [];
    const server = await serve((req, res) => {
      paths.push(req.url ?? '');
      const port = (server.server.address() as AddressInfo).port;
      if (req.url === '/start') res.writeHead(302, { location: `http://mirror.test:${port}/away` }).end();
      else if (req.url === '/away') res.writeHead(302, { location: `http://home.test:${port}/back` }).end();
      else if (req.url === '/moved') res.writeHead(302, { location: '/feed.rss' }).end();
      else res.end(rss(item(`Served at ${req.url}`, `https://example.org${req.url}`)));
    });
    try {
      const home = `http://home.test:${(server.server.address() as AddressInfo).port}`;
      const allowed = { allowPrivateAddresses: true };
      const read = await readFeeds({ feeds: [feed('bounced', `${home}/start`, allowed), feed('moved', `${home}/moved`, allowed)], base: '.', addressCheck: { resolveHost, refusal } });
      assert.deepEqual(read.items.map((i) => i.title), ['Served at /feed.rss']);
      assert.deepEqual(paths, ['/start', '/away', '/moved', '/feed.rss']);
      assert.deepEqual(read.problems.map((p) => p.message), [
        `refused the redirect from ${home.replace('home', 'mirror')}/away to ${home}/back (following the feed ${home}/start): home.test resolves to ::ffff:127.0.0.1, a loopback address; a redirect may only reach public addresses`,
      ]);
    } finally {
      await server.close();
    }
  });

  it('classifies resolved addresses in every spelling, and refuses a name if any of its addresses is not public', async () => {
    const internal = ['127.0.0.1', '127.8.9.10', '::1', '0.0.0.0', '::', '10.0.0.1', '172.16.5.4', '192.168.1.1', '169.254.169.254', 'fe80::1%eth0', 'fd00:ec2::254', 'fc00::1', '100.100.100.200', '192.0.0.192', '224.0.0.1', 'ff02::1', '255.255.255.255'];
    const mapped = ['::ffff:127.0.0.1', '::ffff:7f00:1', '0:0:0:0:0:ffff:a00:1', '::ffff:169.254.169.254', '::7f00:1'];
    for (const address of [...internal, ...mapped]) assert.ok(addressRefusal(address), address);
    for (const address of ['93.184.215.14', '8.8.8.8', '::ffff:8.8.8.8', '2606:4700:4700::1111', '172.32.0.1', '100.128.0.1']) assert.equal(addressRefusal(address), null, address);
    assert.equal(addressRefusal('evil.test'), 'not an IP address');

    const resolveHost: ResolveHost = (name) => Promise.resolve(name === 'public.test' ? ['93.184.215.14', '2606:4700:4700::1111'] : name === 'mixed.test' ? ['93.184.215.14', 'fd00::1'] : []);
    assert.deepEqual(await checkedAddresses('public.test', { resolveHost }), ['93.184.215.14', '2606:4700:4700::1111']);
    await assert.rejects(checkedAddresses('mixed.test', { resolveHost }), (error) => error instanceof AddressRefused && error.message === 'mixed.test resolves to fd00::1, a unique-local (private) address');
    await assert.rejects(checkedAddresses('empty.test', { resolveHost }), /empty\.test resolves to no address/);
    // An address written in the URL is checked as it is, never resolved.
    const never: ResolveHost = () => Promise.reject(new Error('resolved an IP literal'));
    await assert.rejects(checkedAddresses('[::ffff:a9fe:a9fe]', { resolveHost: never }), /::ffff:a9fe:a9fe is a link-local address/);
    assert.deepEqual(await checkedAddresses('8.8.8.8', { resolveHost: never }), ['8.8.8.8']);
  });

  it('decodes a feed by the charset it declares and reports bytes that lie about their encoding', async () => {
    const latin = Buffer.from(rss(item('Caf\u00e9 au lait', 'https://example.org/cafe')), 'latin1');
    const server = await serve((req, res) => {
      if (req.url === '/header') res.writeHead(200, { 'content-type': 'application/rss+xml; charset=ISO-8859-1' }).end(latin);
      else if (req.url === '/declaration') res.end(Buffer.from(rss(item('Caf\u00e9 au lait', 'https://example.org/cafe2'), '<?xml version="1.0" encoding="ISO-8859-1"?>'), 'latin1'));
      else if (req.url === '/lies') res.writeHead(200, { 'content-type': 'application/rss+xml; charset=utf-8' }).end(latin);
      else res.writeHead(200, { 'content-type': 'text/xml; charset=x-no-such' }).end(latin);
    });
    try {
      const read = await readFeeds({ feeds: ['header', 'declaration', 'lies', 'unknown'].map((n) => feed(n, `${server.base}/${n}`)), base: '.' });
      assert.deepEqual(read.items.map((i) => i.title), ['Caf\u00e9 au lait', 'Caf\u00e9 au lait']);
      assert.match(read.problems[0]!.message, /\/lies is not valid utf-8 \(the encoding the Content-Type header names\)/);
      assert.match(read.problems[1]!.message, /declares the encoding 'x-no-such' \(the Content-Type header\), which this reader does not know/);
    } finally {
      await server.close();
    }
  });

  it('cuts off a server that trickles bytes and says it ran out of time', async () => {
    let trickling = 0;
    const server = await serve((_req, res) => {
      trickling++;
      res.writeHead(200, { 'content-type': 'application/rss+xml' });
      res.write('<?xml version="1.0"?><rss><channel>');
      const timer = setInterval(() => res.write(' '), 20);
      res.on('close', () => clearInterval(timer));
    });
    try {
      const read = await readFeeds({ feeds: [feed('slow', `${server.base}/slow.rss`)], base: '.', timeoutMs: 300 });
      assert.equal(trickling, 1);
      assert.match(read.problems[0]!.message, new RegExp(`${server.base}/slow.rss did not send the whole feed within 300 ms`));
    } finally {
      server.server.closeAllConnections();
      await server.close();
    }
  });

  it('counts a gzip bomb\'s decompressed bytes against MAX_FEED_BYTES (guard: held before this pass)', async () => {
    const bomb = gzipSync(Buffer.alloc(MAX_FEED_BYTES + 1024 * 1024, 0x20));
    const server = await serve((_req, res) => res.writeHead(200, { 'content-encoding': 'gzip', 'content-type': 'application/rss+xml' }).end(bomb));
    try {
      const read = await readFeeds({ feeds: [feed('bomb', `${server.base}/bomb`)], base: '.' });
      assert.match(read.problems[0]!.message, new RegExp(`sent more than ${MAX_FEED_BYTES} bytes`));
    } finally {
      await server.close();
    }
  });

  it('keeps credentials in a feed URL out of the reports and the digest', async () => {
    const read = await readFeeds({ feeds: [feed('private', 'http://reader:s3cret-token@127.0.0.1:9/feed.rss')], base: '.', fetch: () => Promise.resolve(new Response('nope', { status: 403 })) });
    assert.equal(read.problems.length, 1);
    assert.doesNotMatch(JSON.stringify(read.problems), /s3cret-token/);
    assert.match(read.problems[0]!.where, /feed private \(http:\/\/\*\*\*@127\.0\.0\.1:9\/feed\.rss\)/);
  });

  it('refuses links with credentials or that do not parse, and keeps a link in canonical form', () => {
    const read = parseFeed(
      rss(
        item('creds', '<![CDATA[https://user:pw@example.org/]]>') +
          item('trick', '<![CDATA[https://trusted.example.org@evil.example/]]>') +
          item('broken', '<![CDATA[http://[::1]]>') +
          item('script', '<![CDATA[javascript:alert(1)]]>') +
          item('angle', '<![CDATA[https://example.org/a<b>"c"]]>') +
          item('huge', `https://example.org/${'a'.repeat(5_000)}`),
      ),
      options,
    );
    assert.deepEqual(read.items.map((i) => i.link), ['https://example.org/a%3Cb%3E%22c%22']);
    assert.deepEqual(read.problems.map((p) => p.message), [
      "<link> 'https://***@example.org/' carries a user name or password; expected a plain http(s) URL",
      "<link> 'https://***@evil.example/' carries a user name or password; expected a plain http(s) URL",
      "<link> 'http://[::1' is not a URL",
      "<link> 'javascript:alert(1)' is not an http(s) URL",
      '<link> is 5020 characters long; expected a URL under 2048',
    ]);
  });

  it(`reads at most ${MAX_ENTRIES_PER_FEED} entries of a feed and reports how many it left`, () => {
    const flood = rss(Array.from({ length: MAX_ENTRIES_PER_FEED + 7 }, (_, i) => item(`t${i}`, `https://example.org/${i}`)).join(''));
    const read = parseFeed(flood, options);
    assert.equal(read.items.length, MAX_ENTRIES_PER_FEED);
    assert.equal(read.entries, MAX_ENTRIES_PER_FEED + 7);
    assert.deepEqual(read.problems, [{ where: 'f', message: `${MAX_ENTRIES_PER_FEED + 7} entries; only the first ${MAX_ENTRIES_PER_FEED} were read (7 skipped)` }]);
  });

  it('cuts a megabyte title to MAX_TITLE_CHARS, marked', () => {
    const read = parseFeed(rss(item('x'.repeat(1_000_000), 'https://example.org/long')), options);
    assert.equal(read.items[0]?.title.length, MAX_TITLE_CHARS);
    assert.ok(read.items[0]?.title.endsWith('…'));
  });

  it('reads only dates that look like dates: garbage that Date.parse accepts is no date', () => {
    const dates = ['1', '12', 'garbage', 'NaN', '99999-01-01', 'Mon, 06 Jan 2025 09:00:00 GMT', '2025-01-07T08:00:00Z', '2025-01-07'];
    const read = parseFeed(rss(dates.map((d, i) => item(`t${i}`, `https://example.org/${i}`, `<pubDate>${d}</pubDate>`)).join('')), options);
    assert.deepEqual(read.items.map((i) => i.published), [null, null, null, null, null, '2025-01-06T09:00:00.000Z', '2025-01-07T08:00:00.000Z', '2025-01-07T00:00:00.000Z']);
  });

  it('sorts an item whose link key is an Object.prototype name instead of counting it as seen before', async () => {
    const model = await startMockModelServer({ script: { model: 'm', turns: [{ content: 'Subject: rl' }] } });
    const dir = scratch();
    try {
      writeFileSync(join(dir, 'proto.rss'), rss(item('Constructor', 'https://constructor/') + item('To string', 'https://tostring/')));
      writeFileSync(join(dir, 'feeds.yaml'), 'feeds:\n  - { name: proto, source: proto.rss }\n');
      const run = await appsCli(['radar', '--feeds', join(dir, 'feeds.yaml'), '--subjects', example('subjects.yaml'), '--model', `openai:${model.url}#m`, '--store', join(dir, 'g.db'), '--out', dir, '--json']);
      assert.equal(run.code, 0, run.err);
      const result = JSON.parse(run.out) as RadarResult;
      assert.equal(result.duplicates.seenBefore, 0);
      assert.deepEqual(result.sections.map((s) => s.items.map((i) => i.title)), [['Constructor', 'To string']]);
      const state = JSON.parse(readFileSync(join(dir, 'radar-state.json'), 'utf8')) as { items: Record<string, unknown> };
      assert.deepEqual(Object.keys(state.items), ['constructor', 'tostring']);
    } finally {
      await model.close();
    }
  });
});

describe('the digest under attack', () => {
  const hostile: FeedItem = {
    key: 'k',
    feed: 'f',
    title: '<img src=x onerror=alert(1)> [forged](javascript:alert(2)) `code` *bold* \\',
    link: 'https://example.org/a)[x](javascript:alert(3)',
    summary: '',
    published: null,
    authors: [],
  };
  const result = (digest: string): RadarResult => ({
    runId: 'r',
    date: '2025-01-08',
    read: { feeds: 1, entries: 1, items: 1, skipped: 1, problems: [{ where: 'feed f: item 2', message: "<link> '<script>alert(4)</script>' is not an http(s) URL" }] },
    duplicates: { seenBefore: 0, inThisBatch: 0 },
    sections: [{ subject: { id: 'rl', name: 'RL', description: 'd' }, items: [hostile], digest, failure: null, rolloutId: null }],
    unassigned: [],
    unsorted: [{ item: hostile, reason: "output: the reply has no 'Subject: <id>' line: '<iframe src=javascript:alert(5)>'" }],
    budget: { spent: { tokens: 0, dollars: 0, estimatedCalls: 0 }, exhausted: null },
    interrupted: false,
  });

  it('writes feed text and the model\'s text into Markdown as text: no raw HTML, no forged link, no non-http link target', () => {
    const model = ['[1] is new. <script>alert(6)</script>', '[click](javascript:alert(7)) ![pixel](data:image/png;base64,AAAA) [ok](https://example.org/fine)', '[ref]: javascript:alert(8)', 'a \\<b>bold</b>'].join('\n\n');
    const markdown = renderDigestMarkdown(result(model));
    // Every `<` that reaches the file is escaped (by a backslash or as an entity).
    assert.doesNotMatch(markdown, /(^|[^\\])</m, markdown);
    // The only inline link targets left are http(s): the item's own link (parentheses encoded) and the model's safe one.
    // An escaped backslash (two of them) leaves the bracket after it live: drop those pairs, then every unescaped `](` opens a target.
    const targets = [...markdown.replace(/\\\\/g, '').matchAll(/(?<!\\)\]\(([^)]*)\)/g)].map((m) => m[1]);
    const itemLink = 'https://example.org/a%29[x]%28javascript:alert%283%29';
    assert.deepEqual(targets, ['https://example.org/fine', itemLink, itemLink]);
    assert.match(markdown, /^\\\[ref\]: javascript:alert\(8\)$/m);
    assert.match(markdown, /1\. \[\\<img src=x onerror=alert\(1\)\\> \\\[forged\\\]\(javascript:alert\(2\)\) \\`code\\` \\\*bold\\\* \\\\\]/);
  });

  it('keeps the same hostile text inert in HTML (guard: held before this pass)', () => {
    const html = renderDigestHtml(result('<script>alert(6)</script> [1]'));
    assert.doesNotMatch(html, /<(script|img|iframe)/);
    assert.doesNotMatch(html, /href="(?!https:\/\/)/);
  });

  it('refuses a digest date that would name a file outside the output folder', async () => {
    const dir = scratch();
    await assert.rejects(writeDigest({ ...result(''), date: '../../escaped' }, join(dir, 'out')), /digest date: .*'\.\.\/\.\.\/escaped' is not a date/);
  });
});
