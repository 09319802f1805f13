// The grader an exported task's tests/test.sh runs inside a Harbor container: the task's Gauntlet
// verifier (its list of checks, exported as JSON) applied to the container's work dir with the
// same semantics as the TypeScript checks of the terminal environment (src/envs/terminal/checks.ts
// and the answer checks of src/envs/checks.ts). Python, because Harbor images have it and the
// harness itself is Python; the round-trip test holds the two implementations to the same verdicts.
// It writes /logs/verifier/reward.json ({"reward": 0|1, "score": share of checks passed}) and
// prints `PASSED name` / `FAILED name - detail` lines, as pytest's -rA summary does.

/** Checks the grader implements; a task using any other cannot be exported. */
export const GRADER_CHECKS = [
  'answer_contains',
  'answer_excludes',
  'answer_number',
  'file_exists',
  'file_absent',
  'file_contains',
  'file_equals',
  'file_matches_initial',
  'json_file_matches',
  'files_unchanged_except',
  'command_output_equals',
] as const;

export const HARBOR_GRADER = String.raw`#!/usr/bin/env python3
"""Gauntlet's verifier for an exported task: python3 gauntlet_grade.py SPEC.json LOG_DIR [ROOT].

ROOT is where the work dir's files are when not at the spec's workdir (grading a copy of it)."""
import hashlib, json, os, re, subprocess, sys

spec = json.load(open(sys.argv[1], encoding="utf-8"))
log_dir = sys.argv[2]
workdir = spec["workdir"]
root = os.path.realpath(sys.argv[3] if len(sys.argv) > 3 else workdir)
answer_file = spec.get("answer_file")
# Where the harness keeps tests and logs; when that is a folder inside the work dir (an offline
# re-import puts them there), its files are the harness's, not the agent's.
harness = os.path.commonpath([os.path.realpath(os.path.dirname(os.path.abspath(__file__))), os.path.realpath(os.path.dirname(os.path.abspath(log_dir)))])


def excluded(rel):
    if answer_file and rel == answer_file:
        return True
    if not harness.startswith(root + "/"):
        return False
    inside = os.path.realpath(os.path.join(root, rel))
    return inside == harness or inside.startswith(harness + "/")


def normalise_path(path):
    p = path.strip()
    if p.startswith(workdir + "/"):
        p = p[len(workdir) + 1:]
    while p.startswith("./"):
        p = p[2:]
    return re.sub(r"/{2,}", "/", p).rstrip("/")


def snapshot():
    """Every file under the work dir: path -> sha256 (symlinks hashed by target, never followed)."""
    out = {}

    def walk(directory, prefix):
        for name in sorted(os.listdir(directory)):
            full = os.path.join(directory, name)
            path = prefix + "/" + name if prefix else name
            if excluded(path):
                continue
            if os.path.islink(full):
                out[path] = hashlib.sha256(("symlink:" + os.readlink(full)).encode()).hexdigest()
            elif os.path.isdir(full):
                walk(full, path)
            elif os.path.isfile(full):
                with open(full, "rb") as handle:
                    out[path] = hashlib.sha256(handle.read()).hexdigest()

    walk(root, "")
    return out


def read(path):
    """The file's text, or None when it is missing or leads outside the work dir."""
    real = os.path.realpath(os.path.join(root, normalise_path(path)))
    if not (real == root or real.startswith(root + "/")) or not os.path.isfile(real):
        return None
    with open(real, encoding="utf-8", errors="replace") as handle:
        return handle.read()


def normalise_text(text, how):
    lines = text.replace("\r\n", "\n").split("\n")
    if how.get("normalizeWhitespace"):
        lines = [re.sub(r"\s+", " ", l.strip()) for l in lines]
    else:
        lines = [l.rstrip() for l in lines]
    if how.get("ignoreBlankLines"):
        lines = [l for l in lines if l.strip() != ""]
    while lines and lines[-1] == "":
        lines.pop()
    if how.get("sortLines"):
        lines.sort()
    joined = "\n".join(lines)
    return joined.lower() if how.get("ignoreCase") else joined


def first_difference(actual, expected):
    a, e = actual.split("\n"), expected.split("\n")
    for i in range(max(len(a), len(e))):
        x = a[i] if i < len(a) else None
        y = e[i] if i < len(e) else None
        if x != y:
            return "line %d: expected %s, found %s" % (i + 1, json.dumps(y if y is not None else "(end of file)"), json.dumps(x if x is not None else "(end of file)"))
    return "identical"


def glob_regex(glob):
    out, i = "", 0
    while i < len(glob):
        c = glob[i]
        if c == "*":
            if glob[i + 1:i + 2] == "*":
                slash = glob[i + 2:i + 3] == "/"
                out += "(?:.*/)?" if slash else ".*"
                i += 3 if slash else 2
                continue
            out += "[^/]*"
        elif c == "?":
            out += "[^/]"
        else:
            out += re.escape(c)
        i += 1
    return re.compile("^" + out + "$", re.S)


def matches_any(path, globs):
    return any(glob_regex(g).match(path) for g in globs)


def canonical(value):
    """JSON text with sorted keys and integral floats as integers, as the TypeScript checks compare."""
    def fix(v):
        if isinstance(v, dict):
            return {k: fix(v[k]) for k in sorted(v)}
        if isinstance(v, list):
            return [fix(x) for x in v]
        if isinstance(v, float) and v.is_integer():
            return int(v)
        return v
    return json.dumps(fix(value), separators=(",", ":"), ensure_ascii=False)


def value_at(data, dotted):
    current = data
    for key in dotted.split("."):
        if isinstance(current, list) and re.fullmatch(r"\d+", key) and int(key) < len(current):
            current = current[int(key)]
        elif isinstance(current, dict) and key in current:
            current = current[key]
        else:
            return False, None
    return True, current


def js_regex(pattern, ignore_case):
    return re.compile(pattern, re.M | (re.I if ignore_case else 0))


# Numbers standing on their own: not parts of dates, times, paths, versions or identifiers.
STANDALONE_NUMBER = re.compile(r"(?<![\w.:/-])-?\d+(?:\.\d+)?(?![\w:/-]|\.\d)", re.ASCII)
# Verification commands ignore whatever the agent left to configure the tools they call.
VERIFY_ENV = {"HOME": "/tmp", "XDG_CONFIG_HOME": "/tmp/.config", "PYTHONNOUSERSITE": "1", "PYTHONSAFEPATH": "1", "PYTHONDONTWRITEBYTECODE": "1", "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": "/dev/null"}


def plain_numbers(text):
    return re.sub(r"(\d),(?=\d{3}(?!\d))", r"\1", text, flags=re.ASCII)


def standalone_numbers(text):
    return [m.group(0) for m in STANDALONE_NUMBER.finditer(plain_numbers(text))]


def fold(text):
    return re.sub(r"[\s,]+", " ", text.lower()).strip()


def check(c, ctx):
    kind = c["check"]
    if kind == "answer_contains":
        if ctx["answer"] is None:
            return False, "no final answer"
        missing = [v for v in c["values"] if fold(v) not in fold(ctx["answer"])]
        return (True, None) if not missing else (False, "answer lacks: " + ", ".join(missing))
    if kind == "answer_excludes":
        found = [v for v in c["values"] if ctx["answer"] is not None and fold(v) in fold(ctx["answer"])]
        return (True, None) if not found else (False, "answer mentions: " + ", ".join(found))
    if kind == "answer_number":
        if ctx["answer"] is None:
            return False, "no final answer"
        text = plain_numbers(ctx["answer"])
        value, decimals = c["value"], c.get("decimals")
        if decimals is None:
            wanted = str(int(value)) if float(value).is_integer() else repr(float(value))
        else:
            wanted = "%.*f" % (decimals, value)
        token = re.compile(r"(?<![\d.])" + wanted.replace(".", r"\.", 1) + r"(?![\d]|\.\d)", re.ASCII)
        if not token.search(text):
            return False, "answer does not state " + wanted
        # One number is the answer; numbers the instruction itself gives do not count against it.
        given = {float(n) for n in standalone_numbers(spec.get("instruction", ""))}
        others = [n for n in dict.fromkeys(standalone_numbers(text)) if float(n) != value and float(n) not in given]
        if not others:
            return True, None
        more = " (+%d more)" % (len(others) - 5) if len(others) > 5 else ""
        return False, "answer states %s but also %s%s: give one number" % (wanted, ", ".join(others[:5]), more)
    if kind == "file_exists":
        return (True, None) if read(c["path"]) is not None else (False, c["path"] + " does not exist")
    if kind == "file_absent":
        rel = normalise_path(c["path"])
        if rel in ctx["final"]:
            return False, c["path"] + " still exists"
        # Anything under the name counts: a directory, fifo or socket the snapshot does not list.
        if os.path.lexists(os.path.join(root, rel)):
            return False, c["path"] + " still exists (not as a regular file)"
        return True, None
    if kind == "file_contains":
        text = read(c["path"])
        if text is None:
            return False, c["path"] + " does not exist"
        ic = c.get("ignoreCase", False)
        hay = text.lower() if ic else text
        has = lambda s: (s.lower() if ic else s) in hay
        problems = ["lacks " + json.dumps(s) for s in c.get("all", []) if not has(s)]
        problems += ["does not match /%s/" % r for r in c.get("regex", []) if not js_regex(r, ic).search(text)]
        problems += ["still contains " + json.dumps(s) for s in c.get("none", []) if has(s)]
        problems += ["matches /%s/" % r for r in c.get("noneRegex", []) if js_regex(r, ic).search(text)]
        return (True, None) if not problems else (False, c["path"] + ": " + "; ".join(problems[:5]))
    if kind == "file_equals":
        text = read(c["path"])
        if text is None:
            return False, c["path"] + " does not exist"
        actual, expected = normalise_text(text, c), normalise_text(c["content"], c)
        return (True, None) if actual == expected else (False, c["path"] + ": " + first_difference(actual, expected))
    if kind == "file_matches_initial":
        source = c.get("initialPath") or c["path"]
        before = ctx["initial"].get(normalise_path(source))
        after = ctx["final"].get(normalise_path(c["path"]))
        if before is None:
            return False, source + " did not exist at the start"
        if after is None:
            return False, c["path"] + " does not exist"
        return (True, None) if after == before else (False, c["path"] + " differs from the original " + source)
    if kind == "json_file_matches":
        text = read(c["path"])
        if text is None:
            return False, c["path"] + " does not exist"
        try:
            parsed = json.loads(text)
        except ValueError as error:
            return False, "%s is not valid JSON: %s" % (c["path"], error)
        problems = []
        for at, expected in c.get("values", {}).items():
            found, value = value_at(parsed, at)
            if not found:
                problems.append(at + " is missing")
            elif canonical(value) != canonical(expected):
                problems.append("%s is %s, expected %s" % (at, json.dumps(value), json.dumps(expected)))
        problems += [at + " should be absent" for at in c.get("absent", []) if value_at(parsed, at)[0]]
        return (True, None) if not problems else (False, c["path"] + ": " + "; ".join(problems[:5]))
    if kind == "files_unchanged_except":
        except_ = [normalise_path(g) for g in c.get("except", [])]
        allow_new = [normalise_path(g) for g in c.get("allowNew", [])]
        problems = []
        for path, digest in ctx["initial"].items():
            if matches_any(path, except_):
                continue
            now = ctx["final"].get(path)
            if now is None:
                problems.append(path + " was removed")
            elif now != digest:
                problems.append(path + " was changed")
        for path in ctx["final"]:
            if path not in ctx["initial"] and not matches_any(path, except_ + allow_new):
                problems.append(path + " is new")
        return (True, None) if not problems else (False, "%d unexpected: %s" % (len(problems), "; ".join(problems[:8])))
    if kind == "command_output_equals":
        command = c["command"]
        try:
            result = subprocess.run(["bash", "-c", command], cwd=root, env={**os.environ, **VERIFY_ENV}, capture_output=True, text=True, errors="replace", timeout=c.get("timeoutMs", 20000) / 1000)
        except subprocess.TimeoutExpired:
            return False, "%s timed out" % json.dumps(command)
        if result.returncode != c.get("exitCode", 0):
            return False, "%s exited %d, expected %d: %s" % (json.dumps(command), result.returncode, c.get("exitCode", 0), result.stderr[:200])
        missing = [s for s in c.get("contains", []) if s not in result.stdout]
        if missing:
            return False, "%s output lacks %s" % (json.dumps(command), ", ".join(json.dumps(m) for m in missing))
        if c.get("stdout") is None:
            return True, None
        actual, expected = normalise_text(result.stdout, c), normalise_text(c["stdout"], c)
        return (True, None) if actual == expected else (False, "%s: %s" % (json.dumps(command), first_difference(actual, expected)))
    raise SystemExit("gauntlet_grade: unknown check %r (this grader is older than the task)" % kind)


def main():
    answer = None
    if answer_file:
        path = os.path.join(root, answer_file)
        if os.path.isfile(path):
            with open(path, encoding="utf-8", errors="replace") as handle:
                answer = handle.read()
    ctx = {"answer": answer, "initial": spec["initial"], "final": snapshot()}
    results = []
    for i, c in enumerate(spec["checks"]):
        passed, detail = check(c, ctx)
        name = c.get("name") or c["check"]
        results.append({"name": name, "passed": passed, "detail": detail})
        print(("PASSED %s" % name) if passed else ("FAILED %s#%d - %s" % (name, i, detail)))
    passed = sum(1 for r in results if r["passed"])
    score = passed / len(results) if results else 0.0
    os.makedirs(log_dir, exist_ok=True)
    with open(os.path.join(log_dir, "gauntlet_checks.json"), "w", encoding="utf-8") as out:
        json.dump(results, out, indent=2)
    with open(os.path.join(log_dir, "reward.json"), "w", encoding="utf-8") as out:
        json.dump({"reward": 1 if passed == len(results) else 0, "score": score}, out)


main()
`;
