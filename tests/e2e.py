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
  kill_after   send SIGKILL this many seconds into the run (then "exit": -9)
  rlimit_fsize  RLIMIT_FSIZE in bytes for the run (a write past it fails)
  files_after  {PATH: text | null (must not exist) | {"same_as": FILE under
           expected/}} checked after the run; PATH is under the temporary
           directory
  modes_after  {PATH: "0644"} permission bits checked after the run
  dir_after    {DIR: [names]}: the exact listing of DIR afterwards (so no
           temporary file is left behind)
  peers_oracle {"region", "env_tag", "roles_tag", "group_env": {SG: ENV},
           "default_env", "attribute"}: the peers in dna-gen's output must be
           exactly what this independent reading of the fleet file gives

Every JSON document dna-gen prints or writes is parsed with python's json
and checked against chef-solo's rules (check_chef): run-list syntax, no
repeats, peers sorted by name then id with exactly five keys each.

Placeholders in cmd, env and files: {endpoint} (the fake's URL), {tmp}
(the case's temporary directory), {fixtures}.

--wrap "CMD ..." (or E2E_WRAP) runs every binary as CMD ... BINARY ARGS,
for valgrind (make valgrind). {logdir} in CMD becomes a fresh directory per
case, where the wrapper must write one log per process
(--log-file={logdir}/vg.%p.log): each run must leave at least one log and
every log must be a complete memcheck report with no error and no heap
block left at exit (see valgrind_log_fails). --time-scale multiplies
max_seconds. A kill_after case runs its binary unwrapped: its point is
where SIGKILL lands in a run, which a wrapper's slowness moves, and a
killed process leaves no report. Under rlimit_fsize, which would cut the
log file short, --log-file=... becomes --log-fd= of a pipe the runner
copies into {logdir}/vg.pipe.log.

With REGENERATE=1 the expected stdout files are rewritten from what the
binaries print, for a human to review with git diff.
"""

import argparse
import glob
import resource
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
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
           "profilesecret0123456789", "sessiontoken0123456789",
           # the prefixes of every secret and token the fake's STS issues
           "stssecret", "ststoken"]


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


class Wrap:
    """Runs each binary under a wrapper command (valgrind) whose per-process
    logs, written under {logdir}, are checked after the run."""

    def __init__(self, cmd, logroot, time_scale=1.0):
        self.cmd = shlex.split(cmd) if cmd else []
        self.logroot = logroot
        self.time_scale = time_scale if self.cmd else 1.0
        self.runs = 0       # wrapped runs
        self.logs = 0       # logs checked

    def __bool__(self):
        return bool(self.cmd)

    def logdir(self, name):
        """A fresh log directory for one case or scenario."""
        path = os.path.join(self.logroot, name)
        shutil.rmtree(path, ignore_errors=True)
        os.makedirs(path)
        return path

    def argv(self, argv, logdir):
        if not self.cmd:
            return argv
        self.runs += 1
        return [a.replace("{logdir}", logdir) for a in self.cmd] + argv

    def check(self, logdir, runs):
        """Failures found in the logs of logdir, where `runs` processes ran."""
        if not self.cmd or not any("{logdir}" in a for a in self.cmd):
            return []
        logs = sorted(glob.glob(os.path.join(logdir, "*.log")))
        fails = []
        if len(logs) < runs:
            fails.append("%d wrapped runs left %d logs in %s" % (runs, len(logs), logdir))
        for path in logs:
            self.logs += 1
            fails += ["%s: %s" % (path, f) for f in valgrind_log_fails(path)]
        return fails


VG_CLEAN_LEAKS = ["definitely lost: 0 bytes in 0 blocks", "indirectly lost: 0 bytes in 0 blocks",
                  "possibly lost: 0 bytes in 0 blocks", "still reachable: 0 bytes in 0 blocks"]


def valgrind_log_fails(path):
    """Zero errors and zero leaks in one memcheck log: "ERROR SUMMARY: 0
    errors", and either "All heap blocks were freed" or (when suppressions
    hid library blocks) every leak kind at 0 bytes in 0 blocks, still
    reachable included. A log with no summary is a process that did not
    finish (killed, or valgrind itself failed)."""
    with open(path, errors="replace") as f:
        text = f.read()
    if "ERROR SUMMARY:" not in text:
        return ["no ERROR SUMMARY (the process did not finish)"]
    # the report past valgrind's banner, capped: the whole log stays on disk
    excerpt = "\n".join(text.splitlines()[6:60])
    if not re.search(r"ERROR SUMMARY: 0 errors from 0 contexts", text):
        return ["memcheck errors:\n" + excerpt]
    if "All heap blocks were freed -- no leaks are possible" not in text and \
            not all(k in text for k in VG_CLEAN_LEAKS):
        return ["heap blocks left at exit:\n" + excerpt]
    return []


def wrap_summary(root):
    """Prints the totals over every memcheck log under root (make
    valgrind's last line); returns 0 when every log is clean."""
    logs = sorted(glob.glob(os.path.join(root, "**", "*.log"), recursive=True))
    errors = bad = 0
    for path in logs:
        with open(path, errors="replace") as f:
            m = re.search(r"ERROR SUMMARY: (\d+) errors", f.read())
        errors += int(m.group(1)) if m else 0
        if valgrind_log_fails(path):
            bad += 1
            print("not clean: " + path)
    print("valgrind: %d processes, %d errors (leaks included), %d logs not clean; "
          "logs in %s" % (len(logs), errors, bad, root))
    return 1 if bad or not logs else 0


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


RUN_LIST_ITEM = re.compile(
    r"(recipe\[[A-Za-z0-9_.-]+(::[A-Za-z0-9_.-]+)?(@[0-9]+\.[0-9]+(\.[0-9]+)?)?\]"
    r"|role\[[A-Za-z0-9_-]+\])")
PEER_KEYS = ["instance_id", "name", "private_ip", "private_dns", "availability_zone"]


def run_list_key(item):
    """recipe[x] and recipe[x::default] are the same run-list item."""
    return item[:-len("::default]")] + "]" if item.endswith("::default]") else item


def check_chef(doc, where, peers_attribute=None):
    """Chef-solo's rules for a dna, role or autoscaling dna document."""
    fails = []
    if not isinstance(doc, dict):
        return ["%s: not a JSON object" % where]
    run_list = doc.get("run_list")
    if run_list is not None:
        if not isinstance(run_list, list):
            fails.append("%s: run_list is not a list" % where)
            run_list = []
        for item in run_list:
            if not isinstance(item, str) or not RUN_LIST_ITEM.fullmatch(item):
                fails.append("%s: run-list item %r is not Chef syntax" % (where, item))
        keys = [run_list_key(i) for i in run_list if isinstance(i, str)]
        if len(set(keys)) != len(keys):
            fails.append("%s: run_list repeats an item: %r" % (where, run_list))
    if doc.get("chef_type") == "role":
        want = ["name", "description", "json_class", "chef_type", "default_attributes",
                "override_attributes", "run_list", "env_run_lists"]
        if sorted(doc) != sorted(want) or doc["json_class"] != "Chef::Role" or \
                not re.fullmatch(r"role-[A-Za-z0-9_-]+", doc["name"]):
            fails.append("%s: not a Chef role: %r" % (where, sorted(doc)))
    ec2 = doc.get("ec2")
    peers = doc.get(peers_attribute) if peers_attribute else \
        ec2.get("peers") if isinstance(ec2, dict) else None
    for role, members in (peers or {}).items():
        order = [(m.get("name"), m.get("instance_id")) for m in members]
        if order != sorted(order):
            fails.append("%s: peers %s not sorted by name, id: %r" % (where, role, order))
        for m in members:
            if list(m) != PEER_KEYS:
                fails.append("%s: peer keys %r, want %r" % (where, list(m), PEER_KEYS))
    return fails


def oracle_peers(fleet_path, node_id, spec):
    """The peers a node should get, read from the fleet file directly."""
    with open(fleet_path) as f:
        fleet = json.load(f)
    instances = fleet["regions"][spec["region"]]

    def tags(i):
        return dict(i.get("tags", []))

    def env_of(i):
        t = tags(i)
        if spec["env_tag"] in t:
            value = t[spec["env_tag"]]
            return value if re.fullmatch(r"[a-z0-9_]+", value) else None
        for _, name in reversed(i.get("groups", [])):
            if name in spec.get("group_env", {}):
                return spec["group_env"][name]
        return spec["default_env"]

    node = next(i for i in instances if i["id"] == node_id)
    env = env_of(node)
    peers = {}
    for i in instances:
        if (i.get("state", "running") != "running" and i["id"] != node_id) or \
                env_of(i) != env:
            continue
        roles = []
        for r in tags(i).get(spec["roles_tag"], "").split(","):
            if r.strip() and r.strip() not in roles:
                roles.append(r.strip())
        name = tags(i).get("Name") or i["id"]
        ip = i["private_ip"]  # us-east-1 names: ip-A-B-C-D.ec2.internal
        for r in roles:
            peers.setdefault(r, []).append({
                "instance_id": i["id"], "name": name, "private_ip": ip,
                "private_dns": "ip-%s.ec2.internal" % ip.replace(".", "-"),
                "availability_zone": i["az"]})
    return {r: sorted(m, key=lambda p: (p["name"], p["instance_id"]))
            for r, m in sorted(peers.items())}


def run(argv, env, limit, case, log_pipe=None):
    """Runs argv; returns (returncode, stdout, stderr) or None on timeout.
    With log_pipe, a wrapper's --log-file=... becomes a pipe whose content
    goes to the file log_pipe (RLIMIT_FSIZE does not apply to pipes)."""
    fsize = case.get("rlimit_fsize")

    def limits():
        if fsize is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))

    if log_pipe is None:
        return run_child(argv, env, limit, case, limits, ())
    r, w = os.pipe()
    argv = ["--log-fd=%d" % w if a.startswith("--log-file=") else a for a in argv]
    chunks = []
    reader = threading.Thread(target=lambda: chunks.extend(
        iter(lambda: os.read(r, 65536), b"")))
    try:
        reader.start()
        return run_child(argv, env, limit, case, limits, (w,), w)
    finally:
        reader.join(30)
        os.close(r)
        with open(log_pipe, "wb") as f:
            f.write(b"".join(chunks))


def run_child(argv, env, limit, case, limits, pass_fds, close_fd=None):
    try:
        p = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, preexec_fn=limits,
                             pass_fds=pass_fds)
    finally:
        if close_fd is not None:
            os.close(close_fd)  # the child's copy is the only writer left
    try:
        if "kill_after" in case:
            try:
                p.wait(timeout=case["kill_after"])
            except subprocess.TimeoutExpired:
                p.kill()
        out, err = p.communicate(timeout=limit)
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate()
        return None
    return p.returncode, out, err


def check_files(case, tmp, subst):
    fails = []
    for rel, want in case.get("files_after", {}).items():
        path = os.path.join(tmp, expand(rel, subst))
        if want is None:
            if os.path.lexists(path):
                fails.append("%s exists, want it absent" % rel)
            continue
        is_doc = isinstance(want, dict)
        if is_doc:
            with open(os.path.join(EXPECTED, want["same_as"])) as f:
                want = f.read()
        try:
            with open(path) as f:
                got = f.read()
        except OSError as e:
            fails.append("%s: %s" % (rel, e))
            continue
        if got != want:
            fails.append("%s holds %r, want %r" % (rel, got[:300], want[:300]))
        if is_doc:
            try:
                fails += check_chef(json.loads(got), rel)
            except ValueError as e:
                fails.append("%s: invalid JSON: %s" % (rel, e))
    for rel, mode in case.get("modes_after", {}).items():
        path = os.path.join(tmp, rel)
        got = "%04o" % (os.stat(path).st_mode & 0o7777) if os.path.exists(path) else None
        if got != mode:
            fails.append("%s has mode %s, want %s" % (rel, got, mode))
    for rel, names in case.get("dir_after", {}).items():
        got = sorted(os.listdir(os.path.join(tmp, rel)))
        if got != sorted(names):
            fails.append("%s/ holds %r, want %r" % (rel, got, sorted(names)))
    return fails


def run_case(path, build, fakes, workdir, regenerate, wrap=None):
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
    wrapped = bool(wrap) and "kill_after" not in case
    if wrapped:
        logdir = wrap.logdir(name)
        argv = wrap.argv(argv, logdir)
        limit *= wrap.time_scale
    t0 = time.time()
    result = run(argv, env, limit, case, os.path.join(logdir, "vg.pipe.log")
                 if wrapped and "rlimit_fsize" in case else None)
    if result is None:
        return ["did not finish within %s s" % limit]
    elapsed = time.time() - t0
    returncode, out, err = result
    out, err = out.decode("utf-8", "replace"), err.decode("utf-8", "replace")
    fails = []
    want_exit = case["exit"]
    if returncode != want_exit:
        fails.append("exit %d, want %d" % (returncode, want_exit))
    if "stderr" in case and not re.fullmatch(case["stderr"], err, re.DOTALL):
        fails.append("stderr %r does not match %r" % (err, case["stderr"]))
    if want_exit > 0:
        if out:
            fails.append("stdout not empty on failure: %r" % out[:200])
        if err.count("\n") != 1 or not err.endswith("\n"):
            fails.append("stderr is not one line: %r" % err)
    if "stdout" in case:
        exp_path = os.path.join(EXPECTED, case["stdout"])
        if regenerate and returncode == want_exit:
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
    if case["cmd"][0] == "dna-gen" and returncode == 0 and out:
        try:
            doc = json.loads(out)
        except ValueError as e:
            fails.append("stdout is not valid JSON: %s" % e)
        else:
            oracle = case.get("peers_oracle")
            fails += check_chef(doc, "stdout", oracle and oracle.get("attribute"))
            if oracle:
                fleet_path = os.path.join(FIXTURES, "fleets", fleet + ".json")
                want = oracle_peers(fleet_path, oracle["node"], oracle)
                where = doc.get(oracle["attribute"]) if oracle.get("attribute") \
                    else doc.get("ec2", {}).get("peers")
                if where != want:
                    fails.append("peers %s, want (oracle) %s" % (
                        json.dumps(where), json.dumps(want)))
    fails += check_files(case, tmp, subst)
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
    if wrapped:
        fails += wrap.check(logdir, 1)
    if not fails:
        shutil.rmtree(tmp, ignore_errors=True)
    case["_elapsed"] = elapsed
    return fails


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default="build", help="directory of the binaries")
    ap.add_argument("--wrap", default=os.environ.get("E2E_WRAP"),
                    help="command prefixed to every binary run (valgrind ...); "
                    "{logdir} in it is a per-case directory for its logs")
    ap.add_argument("--wrap-logs", help="where the {logdir}s go (default: a "
                    "temporary directory, removed when every case passed)")
    ap.add_argument("--time-scale", type=float, default=1.0,
                    help="factor on max_seconds when wrapping")
    ap.add_argument("--wrap-summary", metavar="DIR",
                    help="only print the totals of the memcheck logs under DIR")
    ap.add_argument("cases", nargs="*", help="case names (default: all)")
    args = ap.parse_args()
    if args.wrap_summary:
        return wrap_summary(args.wrap_summary)
    build = os.path.abspath(args.build)
    regenerate = os.environ.get("REGENERATE") == "1"
    paths = sorted(glob.glob(os.path.join(CASES, "*.json")))
    if args.cases:
        paths = [p for p in paths if os.path.splitext(os.path.basename(p))[0] in args.cases]
    workdir = tempfile.mkdtemp(prefix="e2e-")
    wrap = Wrap(args.wrap, os.path.abspath(args.wrap_logs or os.path.join(workdir, "wrap")),
                args.time_scale)
    fakes = {}
    passed = failed = 0
    try:
        for path in paths:
            name = os.path.splitext(os.path.basename(path))[0]
            try:
                fails = run_case(path, build, fakes, workdir, regenerate, wrap)
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
    if wrap:
        print("wrapped: %d runs, %d logs checked" % (wrap.runs, wrap.logs))
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    sys.exit(main())
