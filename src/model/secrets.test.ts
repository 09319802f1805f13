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

  it('agrees with parsing every URL, for URLs with and without credentials or a query', () => {
    const parsedAlways = (url: string): string => {
      try {
        const parsed = new URL(url);
        if (!parsed.username && !parsed.password && !parsed.search) return url;
        parsed.username = '';
        parsed.password = '';
        parsed.search = '';
        return parsed.toString();
      } catch (_error) {
        return url;
      }
    };
    const part = fc.stringMatching(/^[A-Za-z0-9@?:%#=&._~-]{0,12}$/);
    fc.assert(
      fc.property(fc.constantFrom('http://', 'https://', 'HTTP://', ''), part, part, part, (scheme, a, b, c) => {
        const url = `${scheme}${a}host${b}/v1${c}`;
        assert.equal(redactUrl(url), parsedAlways(url));
      }),
      { numRuns: 2000 },
    );
  });
});
