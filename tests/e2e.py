#!/usr/bin/python3
"""End-to-end tests: the real enc and dna-gen binaries against tests/fake_ec2.py.

Each case is a JSON file under fixtures/e2e/ (found by glob, run in name
order). Keys:

  why      one line: why the case exists (required)
  fleet    fleet name under fixtures/fleets/ (default "basic")
  cmd      argv; argv[0] is "enc" or "dna-gen" (run from --build)
  env      variables set over the default environment (see base_env);
           a null value unsets the variable
  files    {PATH: text} written into the case's temporary directory first
           (which is also $HOME, so ".aws/credentials" lands in ~/.aws)
  setup    list of control requests sent before the run:
           {"fault": {...}} or {"config": {...}} (see tests/fake_ec2.py)
  exit     expected exit status
  stdout   expected stdout file under fixtures/e2e/expected/ (exit 0 only;
           a failing run must print nothing on stdout)
  stdout_json  expected stdout as a JSON value (compared after parsing)
  stderr   regular expression the whole of stderr must match (re.fullmatch,
           DOTALL); a failing run must say one line
  no_stderr  substrings that must not appear on stderr
  stats    {counter: value} expected from /__control/stats after the run
  max_seconds  upper bound for the run (default 30); guards against hangs

Placeholders in cmd, env and files: {endpoint} (the fake's URL), {tmp}
(the case's temporary directory), {fixtures}.

With REGENERATE=1 the expected stdout files are rewritten from what the
binaries print, for a human to review with git diff.
"""

import argparse
import glob
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "fixtures")
CASES = os.path.join(FIXTURES, "e2e")
EXPECTED = os.path.join(CASES, "expected")

ACCESS_KEY = "AKIDTEST"
SECRET_KEY = "secrettestkey0123456789"
# Strings that must never appear in any output: the secrets the tests use.
SECRETS = [SECRET_KEY, "imdssecretkey0123456789", "imdssessiontoken0123456789",
           "profilesecret0123456789", "sessiontoken0123456789"]


class Fake:
    """One fake EC2/IMDS server process for a fleet."""

    def __init__(self, fleet, workdir):
        self.port_file = os.path.join(workdir, "port-" + fleet)
        self.log = os.path.join(workdir, "fake-" + fleet + ".log")
        self.proc = subprocess.Popen(
            [sys.executable, os.path.join(ROOT, "tests", "fake_ec2.py"),
             "--fleet", os.path.join(FIXTURES, "fleets", fleet + ".json"),
             "--port-file", self.port_file, "--log", self.log,
             "--cred", ACCESS_KEY + ":" + SECRET_KEY,
             "--cred", "AKIDSESSION:profilesecret0123456789:sessiontoken0123456789",
             "--cred", "AKIDPROFILE:profilesecret0123456789"],
            stdout=subprocess.DEVNULL)
        deadline = time.time() + 15
        while not os.path.exists(self.port_file):
            if self.proc.poll() is not None or time.time() > deadline:
                raise RuntimeError("fake_ec2.py did not start; see " + self.log)
            time.sleep(0.05)
        with open(self.port_file) as f:
            self.port = int(f.read().strip())
        self.url = "http://127.0.0.1:%d" % self.port

    def control(self, what, doc=None):
        data = json.dumps(doc or {}).encode() if what != "stats" else None
        req = urllib.request.Request(self.url + "/__control/" + what, data=data,
                                     method="GET" if data is None else "POST")
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read() or b"{}")

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def base_env(tmp, fake):
    """A closed environment: nothing from the real machine's AWS set-up."""
    env = {"PATH": "/usr/bin:/bin", "HOME": tmp, "LANG": "C.UTF-8",
           "AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
           "AWS_REGION": "us-east-1",
           "AWS_ENDPOINT_URL_EC2": fake.url,
           "AWS_EC2_METADATA_SERVICE_ENDPOINT": fake.url,
           "ASAN_OPTIONS": "detect_leaks=1:abort_on_error=0",
           "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1"}
    return env


def expand(value, subst):
    if isinstance(value, str):
        for k, v in subst.items():
            value = value.replace("{" + k + "}", v)
    return value


def run_case(path, build, fakes, workdir, regenerate):
    """Runs one case; returns a list of failure messages (empty: passed)."""
    name = os.path.splitext(os.path.basename(path))[0]
    with open(path) as f:
        case = json.load(f)
    if not case.get("why"):
        return ["case has no 'why'"]
    fleet = case.get("fleet", "basic")
    if fleet not in fakes:
        fakes[fleet] = Fake(fleet, workdir)
    fake = fakes[fleet]
    fake.control("reset")
    tmp = tempfile.mkdtemp(prefix=name + "-", dir=workdir)
    subst = {"endpoint": fake.url, "tmp": tmp, "fixtures": FIXTURES}
    for fname, text in case.get("files", {}).items():
        os.makedirs(os.path.dirname(os.path.join(tmp, fname)), exist_ok=True)
        with open(os.path.join(tmp, fname), "w") as f:
            f.write(expand(text, subst))
    for step in case.get("setup", []):
        for what, doc in step.items():
            fake.control(what, doc)
    env = base_env(tmp, fake)
    for k, v in case.get("env", {}).items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = expand(v, subst)
    argv = [expand(a, subst) for a in case["cmd"]]
    argv[0] = os.path.join(build, argv[0])
    limit = case.get("max_seconds", 30)
    t0 = time.time()
    try:
        p = subprocess.run(argv, env=env, capture_output=True, timeout=limit)
    except subprocess.TimeoutExpired:
        return ["did not finish within %s s" % limit]
    elapsed = time.time() - t0
    out, err = p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")
    fails = []
    want_exit = case["exit"]
    if p.returncode != want_exit:
        fails.append("exit %d, want %d" % (p.returncode, want_exit))
    if "stderr" in case and not re.fullmatch(case["stderr"], err, re.DOTALL):
        fails.append("stderr %r does not match %r" % (err, case["stderr"]))
    if want_exit != 0:
        if out:
            fails.append("stdout not empty on failure: %r" % out[:200])
        if err.count("\n") != 1 or not err.endswith("\n"):
            fails.append("stderr is not one line: %r" % err)
    if "stdout" in case:
        exp_path = os.path.join(EXPECTED, case["stdout"])
        if regenerate and p.returncode == want_exit:
            with open(exp_path, "w") as f:
                f.write(out)
        with open(exp_path) as f:
            expected = f.read()
        if out != expected:
            fails.append("stdout differs from %s:\n%s" % (case["stdout"], out))
    if "stdout_json" in case:
        try:
            got = json.loads(out)
        except ValueError as e:
            got = "invalid JSON: %s" % e
        if got != case["stdout_json"]:
            fails.append("stdout JSON %r, want %r" % (got, case["stdout_json"]))
    for s in case.get("no_stderr", []):
        if s in err:
            fails.append("stderr contains %r" % s)
    for secret in SECRETS:
        if secret in out or secret in err:
            fails.append("a secret appears in the output")
    if "stats" in case:
        stats = fake.control("stats")
        for k, v in case["stats"].items():
            if stats.get(k) != v:
                fails.append("stats %s = %r, want %r" % (k, stats.get(k), v))
    if "Sanitizer" in err or "runtime error" in err:
        fails.append("sanitizer report:\n" + err)
    if not fails:
        shutil.rmtree(tmp, ignore_errors=True)
    case["_elapsed"] = elapsed
    return fails


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default="build", help="directory of the binaries")
    ap.add_argument("cases", nargs="*", help="case names (default: all)")
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    regenerate = os.environ.get("REGENERATE") == "1"
    paths = sorted(glob.glob(os.path.join(CASES, "*.json")))
    if args.cases:
        paths = [p for p in paths if os.path.splitext(os.path.basename(p))[0] in args.cases]
    workdir = tempfile.mkdtemp(prefix="e2e-")
    fakes = {}
    passed = failed = 0
    try:
        for path in paths:
            name = os.path.splitext(os.path.basename(path))[0]
            try:
                fails = run_case(path, build, fakes, workdir, regenerate)
            except Exception as e:  # a broken case is a failed case
                fails = ["runner error: %r" % e]
            if fails:
                failed += 1
                print("FAIL %s" % name)
                for f in fails:
                    print("     " + f.replace("\n", "\n     "))
            else:
                passed += 1
                print("ok   %s" % name)
    finally:
        for fake in fakes.values():
            fake.stop()
        if not failed:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print("fake server logs and failed cases' files are in " + workdir)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    sys.exit(main())
