// The host side of a bwrap work dir when a command swaps a folder for a symlink between the walk
// that checked a path and the call that uses it: nothing may be created outside, not even empty.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, linkSync, mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { hostAdapter } from './bwrap.ts';
import { SandboxPathError } from './paths.ts';

describe('host-side writes into a work dir', () => {
  const scratch = realpathSync(mkdtempSync(join(tmpdir(), 'gauntlet-host-files-')));
  after(() => rmSync(scratch, { recursive: true, force: true }));
  const root = join(scratch, 'work');
  const outside = join(scratch, 'outside');
  mkdirSync(root);
  mkdirSync(outside);
  // What the walk saw as a folder is, by the time of the write, a link out.
  symlinkSync(outside, join(root, 'sub'));
  const fs = hostAdapter(undefined, root);

  it('refuses to create a file through a folder swapped for a link, leaving nothing outside', async () => {
    await assert.rejects(fs.writeText(join(root, 'sub', 'new.txt'), 'pwned'), SandboxPathError);
    assert.equal(existsSync(join(outside, 'new.txt')), false, 'an empty file was left outside');
    // A folder higher up swapped: the parent opens, but outside the work dir.
    mkdirSync(join(outside, 'deeper'));
    await assert.rejects(fs.writeText(join(root, 'sub', 'deeper', 'new.txt'), 'pwned'), SandboxPathError);
    assert.equal(existsSync(join(outside, 'deeper', 'new.txt')), false);
  });

  it('refuses to create a folder through it, and leaves an existing file outside as it was', async () => {
    writeFileSync(join(outside, 'kept.txt'), 'original\n');
    await assert.rejects(fs.mkdir(join(root, 'sub', 'made')), SandboxPathError);
    await assert.rejects(fs.writeText(join(root, 'sub', 'kept.txt'), 'pwned'), SandboxPathError);
    assert.equal(existsSync(join(outside, 'made')), false);
    assert.equal(readFileSync(join(outside, 'kept.txt'), 'utf8'), 'original\n');
  });

  it('lists nothing outside through a folder swapped for a link', async () => {
    writeFileSync(join(outside, 'secret-name.txt'), 'x');
    await assert.rejects(fs.readdir(join(root, 'sub')), SandboxPathError);
    await assert.rejects(fs.readdir(join(root, 'sub', 'deeper')), SandboxPathError);
  });

  it('still writes, lists and creates folders inside', async () => {
    await fs.mkdir(join(root, 'real'));
    await fs.writeText(join(root, 'real', 'a.txt'), 'hello');
    await fs.writeText(join(root, 'top.txt'), 'top');
    assert.equal(readFileSync(join(root, 'real', 'a.txt'), 'utf8'), 'hello');
    assert.equal(await fs.readText(join(root, 'top.txt')), 'top');
    assert.deepEqual((await fs.readdir(root)).sort(), ['real', 'sub', 'top.txt']);
    assert.deepEqual(await fs.readdir(join(root, 'real')), ['a.txt']);
  });
});

describe('host-side writes into a hard-linked file', () => {
  const scratch = realpathSync(mkdtempSync(join(tmpdir(), 'gauntlet-host-links-')));
  after(() => rmSync(scratch, { recursive: true, force: true }));
  const root = join(scratch, 'work');
  mkdirSync(root);
  const fs = hostAdapter(undefined, root);

  it('writes the file in place, so every name of it sees the new content (as `>` in a shell)', async () => {
    writeFileSync(join(root, 'a.txt'), 'old\n');
    linkSync(join(root, 'a.txt'), join(root, 'b.txt'));
    chmodSync(join(root, 'a.txt'), 0o640);
    await fs.writeText(join(root, 'a.txt'), 'new\n');
    assert.equal(readFileSync(join(root, 'b.txt'), 'utf8'), 'new\n');
    const [a, b] = [statSync(join(root, 'a.txt')), statSync(join(root, 'b.txt'))];
    assert.deepEqual([a.ino, a.nlink, a.mode & 0o777], [b.ino, 2, 0o640]);
    // Shorter content leaves nothing of the old behind.
    await fs.writeText(join(root, 'b.txt'), 'x');
    assert.equal(readFileSync(join(root, 'a.txt'), 'utf8'), 'x');
  });

  it('still replaces a file with one name, leaving no temporary file', async () => {
    writeFileSync(join(root, 'single.txt'), 'old\n');
    const before = statSync(join(root, 'single.txt')).ino;
    await fs.writeText(join(root, 'single.txt'), 'new\n');
    assert.equal(readFileSync(join(root, 'single.txt'), 'utf8'), 'new\n');
    assert.notEqual(statSync(join(root, 'single.txt')).ino, before);
    assert.ok(!readdirSync(root).some((name) => name.startsWith('.gauntlet-write-')));
  });
});
