#!/usr/bin/python3
"""The fault matrix: every EC2/IMDS fault against every way enc and dna-gen
reach EC2, from the table fixtures/faults/matrix.json (one row per fault and
mode), plus the secrets check.

Each row runs the real binary against tests/fake_ec2.py with the row's fault
and checks the exit status, stderr (a regex; one line on failure), stdout
(exactly the mode's document, or nothing) and the cache file afterwards
(absent, byte-identical, or replaced by a new readable cache). Every row also
checks its stdout, stderr and every file it left for the test credentials'
secret keys and session tokens, for "Signature=" and for any 64-digit hex
string (what a SigV4 signature or signing key looks like); then the secrets
pass runs every row again with -v and checks the same.

    tests/faults.py --build build [--markdown] [--no-verbose-pass] [ROW...]

A ROW is FAULT or FAULT/MODE. --markdown prints the matrix with its results
as a markdown table after the run. Every (fault, mode) pair must have a row.
"""

import argparse
import concurrent.futures
import json
import os
import queue
import re
import select
import signal
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e import FIXTURES, SECRETS, Fake, base_env, expand  # noqa: E402

MATRIX = os.path.join(FIXTURES, "faults", "matrix.json")
CONFIG = os.path.join(FIXTURES, "configs", "basic.yaml")
FLEET = "basic"

# Credentials with a session token, so that a leaked token would show.
SESSION_ENV = {"AWS_ACCESS_KEY_ID": "AKIDSESSION",
               "AWS_SECRET_ACCESS_KEY": "profilesecret0123456789",
               "AWS_SESSION_TOKEN": "sessiontoken0123456789"}
LEAK_PATTERNS = [re.compile(re.escape(s.encode())) for s in SECRETS] + [
    re.compile(rb"Signature="),
    re.compile(rb"X-Amz-Security-Token", re.I),
    re.compile(rb"(?<![0-9a-fA-F])[0-9a-f]{64}(?![0-9a-fA-F])"),
]


class Result:
    """What one run of a binary did."""

    def __init__(self, rc, out, err, seconds, maxrss_kib, timed_out):
        self.rc, self.out, self.err = rc, out, err
        self.seconds, self.maxrss_kib, self.timed_out = seconds, maxrss_kib, timed_out


# A process's peak RSS starts at the RSS of the process that forked it
# (Linux keeps the pre-exec high-water mark), so a child of python reads
# at least python's ~20 MB. This helper, small itself, forks the program,
# waits for it with wait4 and writes "STATUS MAXRSS_KIB" to argv[1].
RSS_HELPER_C = r"""
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
int main(int argc, char **argv) {
	struct rusage ru;
	int status;
	pid_t pid;
	FILE *f;
	if (argc < 3 || (pid = fork()) == -1)
		return 125;
	if (pid == 0) {
		execv(argv[2], argv + 2);
		_exit(127);
	}
	if (wait4(pid, &status, 0, &ru) == -1 || (f = fopen(argv[1], "w")) == NULL)
		return 125;
	fprintf(f, "%d %ld\n", status, ru.ru_maxrss);
	return fclose(f) == 0 ? 0 : 125;
}
"""
_rss_helper = None


def rss_helper(work):
    """The helper's path, compiled into work on first use."""
    global _rss_helper
    if _rss_helper is None:
        src = os.path.join(work, "rss-run.c")
        with open(src, "w") as f:
            f.write(RSS_HELPER_C)
        exe = os.path.join(work, "rss-run")
        subprocess.run([os.environ.get("CC", "cc"), "-O2", "-o", exe, src], check=True)
        _rss_helper = exe
    return _rss_helper


def run_measured(argv, env, limit, work, stdin=None):
    """Runs argv (argv[0] a path) with a time limit through the RSS helper,
    reading both pipes. Returns a Result (rc as subprocess gives it: -N for
    a signal); on timeout the process group is killed and timed_out set."""
    report = tempfile.mktemp(prefix="rss-", dir=work)
    t0 = time.monotonic()
    p = subprocess.Popen([rss_helper(work), report] + argv, env=env,
                         stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         start_new_session=True)
    if stdin is not None:
        p.stdin.write(stdin)
        p.stdin.close()
    out_fd, err_fd = p.stdout.fileno(), p.stderr.fileno()
    chunks = {out_fd: [], err_fd: []}
    open_fds = [out_fd, err_fd]
    timed_out = False
    while open_fds:
        left = limit - (time.monotonic() - t0)
        if left <= 0:
            timed_out = True
            os.killpg(p.pid, signal.SIGKILL)
            break
        ready, _, _ = select.select(open_fds, [], [], min(left, 0.5))
        for fd in ready:
            data = os.read(fd, 65536)
            if data:
                chunks[fd].append(data)
            else:
                open_fds.remove(fd)
    p.wait()
    seconds = time.monotonic() - t0
    p.stdout.close()
    p.stderr.close()
    rc, maxrss = -signal.SIGKILL, 0
    if os.path.exists(report):
        with open(report) as f:
            status, maxrss = (int(x) for x in f.read().split())
        os.unlink(report)
        rc = os.waitstatus_to_exitcode(status)
    elif not timed_out:
        raise RuntimeError("the RSS helper failed (exit %d)" % p.returncode)
    return Result(rc, b"".join(chunks[out_fd]), b"".join(chunks[err_fd]),
                  seconds, maxrss, timed_out)


def leaks(where, data):
    """Failure messages for every secret-looking string in data (bytes)."""
    found = []
    for pat in LEAK_PATTERNS:
        m = pat.search(data)
        if m:
            found.append("%s holds a secret-looking string %r" % (
                where, m.group(0)[:12] + b"..."))
    return found


def leaks_in_dir(tmp):
    """Leak messages for every file under tmp (the cache, its leftovers)."""
    found = []
    for dirpath, _, names in os.walk(tmp):
        for name in names:
            path = os.path.join(dirpath, name)
            if os.path.isfile(path):
                with open(path, "rb") as f:
                    found += leaks(os.path.relpath(path, tmp), f.read())
    return found


def closed_port():
    """A local port nothing listens on."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def load_matrix():
    with open(MATRIX) as f:
        m = json.load(f)
    fails = []
    pairs = set()
    for r in m["rows"]:
        if r["fault"] not in m["faults"] or r["mode"] not in m["modes"]:
            fails.append("row %s/%s: unknown fault or mode" % (r["fault"], r["mode"]))
        if (r["fault"], r["mode"]) in pairs:
            fails.append("row %s/%s appears twice" % (r["fault"], r["mode"]))
        pairs.add((r["fault"], r["mode"]))
        if r["exit"] != 0 and r["stdout"] != "":
            fails.append("row %s/%s: a failing row must expect no stdout" % (
                r["fault"], r["mode"]))
    for fault in m["faults"]:
        for mode in m["modes"]:
            if (fault, mode) not in pairs:
                fails.append("no row for %s/%s" % (fault, mode))
    return m, fails


class Matrix:
    def __init__(self, build, fake, work, matrix):
        self.build, self.fake, self.work, self.m = build, fake, work, matrix

    def config(self, tmp, cache_before):
        """The basic config with a cache in tmp (max_age 0 when stale)."""
        with open(CONFIG) as f:
            text = f.read()
        extra = ", max_age: 0, stale_max_age: 86400" if cache_before == "stale" else ""
        path = os.path.join(tmp, "config.yaml")
        with open(path, "w") as f:
            f.write(text + "cache: {path: %s%s}\n" % (os.path.join(tmp, "fleet.db"), extra))
        return path

    def env(self, tmp, fault):
        env = base_env(tmp, self.fake)
        env.update(SESSION_ENV)
        if fault.get("imds_creds"):
            for k in SESSION_ENV:
                env.pop(k)
        subst = {"closed_port": str(closed_port()), "port": str(self.fake.port),
                 "endpoint": self.fake.url}
        for k, v in fault.get("env", {}).items():
            env[k] = expand(v, subst)
        return env

    def prepare_cache(self, tmp, config, cache_before):
        """A good cache before the run, when the mode has one: its bytes."""
        db = os.path.join(tmp, "fleet.db")
        if cache_before == "none":
            return None
        env = base_env(tmp, self.fake)
        r = run_measured([os.path.join(self.build, "enc"), "-c", config, "--refresh"],
                         env, 30, self.work)
        if r.rc != 0:
            raise RuntimeError("the refresh before the row failed: %r" % r.err)
        with open(db, "rb") as f:
            return f.read(), os.stat(db).st_ino

    def check_cache(self, tmp, want, before):
        db = os.path.join(tmp, "fleet.db")
        fails = []
        left = sorted(n for n in os.listdir(tmp) if ".new-" in n)
        if left:
            fails.append("temporary cache files left: %r" % left)
        if want == "absent":
            if os.path.lexists(db):
                fails.append("the cache exists, want it absent")
            return fails
        if not os.path.exists(db):
            return ["the cache is gone, want it %s" % want]
        with open(db, "rb") as f:
            data = f.read()
        if want == "unchanged":
            if before is None or data != before[0] or os.stat(db).st_ino != before[1]:
                fails.append("the cache changed, want it byte-identical")
        elif want == "replaced":
            if before is not None and os.stat(db).st_ino == before[1]:
                fails.append("the cache was not replaced (same inode)")
            try:
                con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
                n = con.execute("SELECT count(*) FROM instances").fetchone()[0]
                con.close()
                if n <= 0:
                    fails.append("the new cache holds no instance")
            except sqlite3.Error as e:
                fails.append("the new cache is not readable: %s" % e)
        else:
            fails.append("unknown cache state %r in the table" % want)
        return fails

    def run_row(self, row, verbose=False):
        """Runs one row; returns (fails, Result)."""
        fault = self.m["faults"][row["fault"]]
        mode = self.m["modes"][row["mode"]]
        tmp = tempfile.mkdtemp(prefix="%s-%s%s-" % (row["fault"], row["mode"],
                                                    "-v" if verbose else ""),
                               dir=self.work)
        self.fake.control("reset")
        config = self.config(tmp, mode["cache_before"])
        before = self.prepare_cache(tmp, config, mode["cache_before"])
        self.fake.control("reset")
        for step in fault.get("setup", []):
            for what, doc in step.items():
                self.fake.control(what, doc)
        argv = [expand(a, {"config": config}) for a in mode["cmd"]]
        prog = argv[0]
        argv = [os.path.join(self.build, prog)] + (["-v"] if verbose else []) + \
            fault.get("args", []) + argv[1:]
        result = run_measured(argv, self.env(tmp, fault), row.get("max_seconds", 40),
                              self.work)
        fails = []
        if result.timed_out:
            fails.append("did not finish within %s s" % row.get("max_seconds", 40))
        out = result.out.decode("utf-8", "replace")
        err = result.err.decode("utf-8", "replace")
        if result.rc != row["exit"]:
            fails.append("exit %d, want %d" % (result.rc, row["exit"]))
        if not verbose:
            if not re.fullmatch(row["stderr"], err, re.DOTALL):
                fails.append("stderr %r does not match %r" % (err, row["stderr"]))
            if row["exit"] != 0 and (err.count("\n") != 1 or not err.endswith("\n")):
                fails.append("stderr is not one line: %r" % err)
        else:
            # -v traces, then says what it says without -v, last
            lines = err.splitlines(True)
            if len(lines) < 2:
                fails.append("-v traced nothing: %r" % err)
            elif row["stderr"] and not re.fullmatch(row["stderr"], lines[-1], re.DOTALL):
                fails.append("-v: last line %r does not match %r" % (lines[-1], row["stderr"]))
        if row["stdout"] == "doc":
            with open(os.path.join(FIXTURES, mode["stdout"])) as f:
                want_out = f.read()
            if out != want_out:
                fails.append("stdout differs from %s: %r" % (mode["stdout"], out[:300]))
        elif out:
            fails.append("stdout not empty: %r" % out[:200])
        fails += self.check_cache(tmp, row["cache"], before)
        fails += leaks("stdout", result.out) + leaks("stderr", result.err)
        fails += leaks_in_dir(tmp)
        if "Sanitizer" in err or "runtime error" in err:
            fails.append("sanitizer report:\n" + err)
        if not fails:
            shutil.rmtree(tmp, ignore_errors=True)
        return fails, result


def md_escape(s):
    return s.replace("|", "\\|").replace("\n", "\\n")


def markdown(m, results):
    lines = ["| fault | mode | exit | stderr (regex) | stdout | cache after | result | s |",
             "|---|---|---|---|---|---|---|---|"]
    for row in m["rows"]:
        res = results.get((row["fault"], row["mode"]))
        if res is None:
            continue
        ok, r = res
        lines.append("| %s | %s | %d | `%s` | %s | %s | %s | %.1f |" % (
            row["fault"], row["mode"], row["exit"],
            md_escape(row["stderr"].rstrip("\n")),
            "empty" if row["stdout"] == "" else "exact: " + m["modes"][row["mode"]]["stdout"],
            row["cache"], "PASS" if ok else "FAIL (exit %d)" % r.rc, r.seconds))
    return "\n".join(lines)


def selected(row, names):
    return not names or row["fault"] in names or \
        "%s/%s" % (row["fault"], row["mode"]) in names


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--markdown", action="store_true", help="print the matrix as markdown")
    ap.add_argument("--no-verbose-pass", action="store_true",
                    help="skip running every row again with -v")
    ap.add_argument("--jobs", type=int, default=4,
                    help="rows run at once, each worker with its own fake (default 4; "
                    "most rows wait on timeouts and backoff, not on the CPU)")
    ap.add_argument("rows", nargs="*", help="FAULT or FAULT/MODE (default: all)")
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    m, table_fails = load_matrix()
    for f in table_fails:
        print("FAIL table: %s" % f)
    work = tempfile.mkdtemp(prefix="faults-")
    rss_helper(work)
    jobs = [(row, verbose) for verbose in
            ([False] if args.no_verbose_pass else [False, True])
            for row in m["rows"] if selected(row, args.rows)]
    workers = queue.Queue()
    fakes = []
    results = {}
    passed, failed = 0, len(table_fails)

    def one(job):
        row, verbose = job
        mx = workers.get()
        try:
            return mx.run_row(row, verbose)
        except (RuntimeError, OSError, ValueError) as e:
            return ["runner error: %r" % e], Result(-1, b"", b"", 0, 0, False)
        finally:
            workers.put(mx)

    try:
        for i in range(max(1, min(args.jobs, len(jobs)))):
            fake = Fake(FLEET, work) if i == 0 else Fake(FLEET, tempfile.mkdtemp(dir=work))
            fakes.append(fake)
            workers.put(Matrix(build, fake, work, m))
        with concurrent.futures.ThreadPoolExecutor(len(fakes)) as pool:
            for (row, verbose), (fails, r) in zip(jobs, pool.map(one, jobs)):
                name = "%s/%s%s" % (row["fault"], row["mode"], " -v" if verbose else "")
                if not verbose:
                    results[(row["fault"], row["mode"])] = (not fails, r)
                print("%s %-36s exit %3d %5.1f s %6.1f MiB" % (
                    "FAIL" if fails else "PASS", name, r.rc, r.seconds, r.maxrss_kib / 1024))
                for f in fails:
                    print("     " + f.replace("\n", "\n     "))
                if fails:
                    failed += 1
                else:
                    passed += 1
    finally:
        for fake in fakes:
            fake.stop()
        if not failed:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print("fake server logs and failed rows' files are in " + work)
    if args.markdown:
        print()
        print(markdown(m, results))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    sys.exit(main())
