// The Python test runner placed in the sandbox at grading. It runs pytest when pytest is importable;
// otherwise it runs test_* functions and Test* classes itself, with a small stand-in `pytest`
// module (raises, approx, fixtures, parametrize, skip/xfail marks) so common test files import.
// Output follows pytest's short summary (`PASSED id`, `FAILED id - reason`), which the check reads.

export const PYTHON_RUNNER = String.raw`
import importlib.util, inspect, itertools, os, re, shutil, sys, tempfile, traceback, types

def discover(targets):
    found = []
    for target in targets:
        path, _, name = target.partition('::')
        if os.path.isdir(path):
            for root, dirs, names in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith('.') and d != '__pycache__')
                for n in sorted(names):
                    if n.endswith('.py') and (n.startswith('test_') or n.endswith('_test.py')):
                        found.append((os.path.join(root, n), None))
        else:
            found.append((path, name or None))
    return found

try:
    import pytest as _real_pytest
except ImportError:
    _real_pytest = None

if _real_pytest is not None and __name__ == '__main__':
    args = sys.argv[1:] or [os.environ.get('TEST_DIR', '.')]
    sys.exit(_real_pytest.main(['-rA', '-p', 'no:cacheprovider', *args]))

class Skipped(Exception):
    pass

class Failed(AssertionError):
    pass

def add_mark(fn, name, args, kwargs):
    fn._gauntlet_marks = [(name, args, kwargs)] + list(getattr(fn, '_gauntlet_marks', []))
    return fn

class Mark:
    def __getattr__(self, name):
        def mark(*args, **kwargs):
            if name != 'parametrize' and len(args) == 1 and callable(args[0]) and not kwargs:
                return add_mark(args[0], name, (), {})
            return lambda fn: add_mark(fn, name, args, kwargs)
        return mark

class RaisesContext:
    def __init__(self, expected, match=None):
        self.expected, self.match, self.value, self.type = expected, match, None, None
    def __enter__(self):
        return self
    def __exit__(self, kind, value, tb):
        if kind is None:
            raise Failed('DID NOT RAISE %r' % (self.expected,))
        if not issubclass(kind, self.expected):
            return False
        if self.match is not None and not re.search(self.match, str(value)):
            raise Failed('exception %r does not match %r' % (str(value), self.match))
        self.value, self.type = value, kind
        return True

def raises(expected, *args, match=None, **kwargs):
    if args:
        with RaisesContext(expected, match) as ctx:
            args[0](*args[1:], **kwargs)
        return ctx
    return RaisesContext(expected, match)

class approx:
    def __init__(self, expected, rel=None, abs=None):
        self.expected, self.rel, self.abs = expected, rel, abs
    def close(self, expected, actual):
        if isinstance(expected, (list, tuple)):
            return isinstance(actual, (list, tuple)) and len(actual) == len(expected) and all(self.close(e, a) for e, a in zip(expected, actual))
        if isinstance(expected, dict):
            return isinstance(actual, dict) and actual.keys() == expected.keys() and all(self.close(expected[k], actual[k]) for k in expected)
        try:
            if self.abs is not None and self.rel is None:
                tolerance = self.abs
            else:
                tolerance = max((1e-6 if self.rel is None else self.rel) * abs(expected), 1e-12 if self.abs is None else self.abs)
            return actual == expected or (actual - expected) ** 2 <= tolerance ** 2
        except TypeError:
            return actual == expected
    def __eq__(self, actual):
        return self.close(self.expected, actual)
    def __repr__(self):
        return 'approx(%r)' % (self.expected,)

def param(*values, id=None, marks=()):
    return types.SimpleNamespace(values=values, id=id, marks=marks, _gauntlet_param=True)

def fixture(fn=None, **options):
    def register(f):
        f._gauntlet_fixture = options
        return f
    return register(fn) if callable(fn) else register

def skip(reason=''):
    raise Skipped(reason)

def fail(reason=''):
    raise Failed(reason)

def importorskip(name, *args, **kwargs):
    try:
        return importlib.import_module(name)
    except ImportError:
        raise Skipped('could not import %r' % name)

def install_stand_in():
    module = types.ModuleType('pytest')
    for name, value in dict(raises=raises, approx=approx, param=param, fixture=fixture, skip=skip, fail=fail, importorskip=importorskip, mark=Mark()).items():
        setattr(module, name, value)
    module.__gauntlet_stand_in__ = True
    sys.modules['pytest'] = module

class MonkeyPatch:
    def __init__(self):
        self.undo = []
    def setattr(self, target, name, value, raising=True):
        old = getattr(target, name)
        self.undo.append(lambda: setattr(target, name, old))
        setattr(target, name, value)
    def setenv(self, name, value):
        old = os.environ.get(name)
        self.undo.append(lambda: os.environ.pop(name, None) if old is None else os.environ.__setitem__(name, old))
        os.environ[name] = str(value)
    def delenv(self, name, raising=True):
        old = os.environ.pop(name, None)
        if old is not None:
            self.undo.append(lambda: os.environ.__setitem__(name, old))
    def chdir(self, path):
        old = os.getcwd()
        self.undo.append(lambda: os.chdir(old))
        os.chdir(path)
    def restore(self):
        while self.undo:
            self.undo.pop()()

def builtin_fixture(name, teardowns):
    import pathlib
    if name in ('tmp_path', 'tmpdir'):
        path = tempfile.mkdtemp(prefix='gauntlet-test-')
        teardowns.append(lambda: shutil.rmtree(path, ignore_errors=True))
        return pathlib.Path(path) if name == 'tmp_path' else path
    if name == 'monkeypatch':
        patch = MonkeyPatch()
        teardowns.append(patch.restore)
        return patch
    raise Failed('fixture %r is not available without pytest' % name)

class Fixtures:
    def __init__(self, defined):
        self.defined, self.cache, self.teardowns = defined, {}, {'function': [], 'module': [], 'session': []}
    def get(self, name, stack=()):
        fn = self.defined.get(name)
        scope = (fn._gauntlet_fixture.get('scope') or 'function') if fn else 'function'
        scope = scope if scope in ('module', 'session') else 'function'
        if (scope, name) in self.cache:
            return self.cache[(scope, name)]
        if fn is None:
            value = builtin_fixture(name, self.teardowns['function'])
        else:
            if name in stack:
                raise Failed('fixture %r depends on itself' % name)
            kwargs = {p: self.get(p, stack + (name,)) for p in inspect.signature(fn).parameters if p != 'request'}
            value = fn(**kwargs)
            if inspect.isgenerator(value):
                gen, value = value, next(value)
                self.teardowns[scope].append(lambda: next(gen, None))
        self.cache[(scope, name)] = value
        return value
    def autouse(self):
        for name, fn in self.defined.items():
            if fn._gauntlet_fixture.get('autouse'):
                self.get(name)
    def finish(self, scope):
        for teardown in reversed(self.teardowns[scope]):
            teardown()
        self.teardowns[scope] = []
        self.cache = {k: v for k, v in self.cache.items() if k[0] != scope}

def marks_of(fn):
    return getattr(fn, '_gauntlet_marks', [])

def cases(fn):
    axes = []
    for name, args, kwargs in marks_of(fn):
        if name != 'parametrize':
            continue
        names = args[0] if args else kwargs['argnames']
        names = [n.strip() for n in names.split(',')] if isinstance(names, str) else list(names)
        values = args[1] if len(args) > 1 else kwargs['argvalues']
        ids = kwargs.get('ids')
        axis = []
        for i, value in enumerate(values):
            label = ids[i] if isinstance(ids, (list, tuple)) else None
            if getattr(value, '_gauntlet_param', False):
                label, value = value.id or label, value.values
            value = tuple(value) if len(names) > 1 else (value,)
            axis.append((label or '-'.join(str(v) for v in value), dict(zip(names, value))))
        axes.append(axis)
    if not axes:
        return [('', {})]
    return [('[' + '-'.join(label for label, _ in combo) + ']', {k: v for _, params in combo for k, v in params.items()}) for combo in itertools.product(*axes)]

def reason_of(error):
    frames = [f for f in traceback.extract_tb(error.__traceback__) if 'gauntlet' not in os.path.basename(f.filename)]
    where = ' at %s:%s: %s' % (os.path.basename(frames[-1].filename), frames[-1].lineno, frames[-1].line) if frames else ''
    text = str(error).strip().splitlines()
    return '%s%s%s' % (type(error).__name__, (': ' + text[0]) if text else '', where)

def run_one(test_id, fn, params, fixtures, results):
    marks = {name: (args, kwargs) for name, args, kwargs in marks_of(fn)}
    if 'skip' in marks or ('skipif' in marks and marks['skipif'][0] and marks['skipif'][0][0] is True):
        results.append(('SKIPPED', test_id, ''))
        return
    try:
        fixtures.autouse()
        kwargs = {p: params[p] if p in params else fixtures.get(p) for p in inspect.signature(fn).parameters if p != 'self'}
        fn(**kwargs)
        results.append(('PASSED', test_id, ''))
    except Skipped as error:
        results.append(('SKIPPED', test_id, str(error)))
    except BaseException as error:
        if isinstance(error, KeyboardInterrupt):
            raise
        results.append(('XFAIL' if 'xfail' in marks else 'FAILED', test_id, reason_of(error)))
    finally:
        try:
            fixtures.finish('function')
        except BaseException as error:
            results.append(('ERROR', test_id, 'teardown: ' + reason_of(error)))

def load(path, defined):
    directory = os.path.dirname(os.path.abspath(path))
    if directory not in sys.path:
        sys.path.insert(0, directory)
    conftest = os.path.join(directory, 'conftest.py')
    if os.path.exists(conftest) and 'conftest' not in sys.modules:
        defined.update(fixtures_in(import_file(conftest, 'conftest')))
    return import_file(path, 'gauntlet_test_' + re.sub(r'\W', '_', os.path.relpath(path)))

def import_file(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module

def fixtures_in(module):
    return {n: v for n, v in vars(module).items() if callable(v) and hasattr(v, '_gauntlet_fixture')}

def main(targets):
    install_stand_in()
    results, shared = [], {}
    for path, only in discover(targets or [os.environ.get('TEST_DIR', '.')]):
        label = os.path.relpath(path)
        try:
            module = load(path, shared)
        except BaseException as error:
            results.append(('ERROR', label, reason_of(error)))
            continue
        fixtures = Fixtures({**shared, **fixtures_in(module)})
        for name, value in list(vars(module).items()):
            if only and name != only.split('::')[0]:
                continue
            if name.startswith('test') and inspect.isfunction(value) and value.__module__ == module.__name__:
                for suffix, params in cases(value):
                    run_one('%s::%s%s' % (label, name, suffix), value, params, fixtures, results)
            elif name.startswith('Test') and inspect.isclass(value) and value.__module__ == module.__name__:
                for method_name, method in sorted(vars(value).items()):
                    if not (method_name.startswith('test') and inspect.isfunction(method)):
                        continue
                    instance = value()
                    if hasattr(instance, 'setup_method'):
                        instance.setup_method(method)
                    for suffix, params in cases(method):
                        run_one('%s::%s::%s%s' % (label, name, method_name, suffix), getattr(instance, method_name), params, fixtures, results)
        fixtures.finish('module')
    for status, test_id, reason in results:
        print('%s %s%s' % (status, test_id, (' - ' + reason) if reason and status in ('FAILED', 'ERROR') else ''))
    failed = sum(1 for r in results if r[0] in ('FAILED', 'ERROR'))
    passed = sum(1 for r in results if r[0] in ('PASSED', 'XFAIL'))
    print('== %d passed, %d failed (Gauntlet built-in runner; pytest is not installed) ==' % (passed, failed))
    sys.exit(1 if failed else (0 if passed else 5))

if __name__ == '__main__':
    main(sys.argv[1:])
`;
