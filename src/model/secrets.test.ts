import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { redactUrl } from './secrets.ts';

describe('redactUrl', () => {
  it('takes out user info and the query, and leaves the rest as written', () => {
    assert.equal(redactUrl('https://user:sk-secret@api.example.com/v1'), 'https://api.example.com/v1');
    assert.equal(redactUrl('https://api.example.com/v1?key=sk-secret'), 'https://api.example.com/v1');
    assert.equal(redactUrl('http://127.0.0.1:8000/v1'), 'http://127.0.0.1:8000/v1');
    assert.equal(redactUrl('not a url'), 'not a url');
  });

  it('masks user info and query in a URL too broken to parse, such as one whose password holds a "/"', () => {
    assert.equal(redactUrl('http://user:abc/sk-SECRET@127.0.0.1:9/v1'), 'http://***@127.0.0.1:9/v1');
    assert.equal(redactUrl('http://user:p@ss:x@h:99999/v1?key=sk-SECRET'), 'http://***@h:99999/v1?***');
    assert.equal(redactUrl('http://h:port/v1?key=sk-SECRET'), 'http://h:port/v1?***');
  });

  it('returns a URL with nothing to take out as written, and takes both out of any other, keeping the rest', () => {
    const part = fc.stringMatching(/^[A-Za-z0-9@?:%#=&._~-]{0,12}$/);
    fc.assert(
      fc.property(fc.constantFrom('http://', 'https://', 'HTTP://', ''), part, part, part, (scheme, a, b, c) => {
        const url = `${scheme}${a}host${b}/v1${c}`;
        const redacted = redactUrl(url);
        let parsed: URL;
        try {
          parsed = new URL(url);
        } catch (_error) {
          if (!url.includes('@') && !url.includes('?')) assert.equal(redacted, url, 'not a URL, with nothing to take out: left as it is');
          else assert.equal(/[^*]@|\?(?!\*\*\*$)/.test(redacted.replace(/^[a-z]+:\/\//i, '')), false, `not a URL: '${redacted}' keeps what precedes an '@' or follows a '?'`);
          return;
        }
        if (!parsed.username && !parsed.password && !parsed.search) {
          assert.equal(redacted, url);
          return;
        }
        const after = new URL(redacted);
        assert.deepEqual([after.username, after.password, after.search], ['', '', '']);
        assert.deepEqual([after.protocol, after.host, after.pathname, after.hash], [parsed.protocol, parsed.host, parsed.pathname, parsed.hash]);
      }),
      { numRuns: 2000 },
    );
  });
});
