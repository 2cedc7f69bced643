#!/usr/bin/python3
"""make bench: figures for enc and dna-gen on generated fleets (stdlib only).

For each fleet size (default 1,000 and 10,000 instances, all running, in
us-east-1) it writes a deterministic fleet and a config into a temporary
directory, starts tests/fake_ec2.py on it, and measures:

  enc --refresh            builds the cache (all pages)
  enc CERTNAME             a cache hit, a different Name tag each run
  enc --live CERTNAME      bypasses the cache and asks the fake
  dna-gen INSTANCE-ID      a cache hit in the 3,000-instance environment
                           (its peers included)
  cat FILE                 the floor: FILE holds as many bytes as the enc
                           cache-hit output

For every run: wall time, CPU time (user + sys) and peak RSS of the child,
and the EC2 requests it made (from the fake's /__control/stats). It prints a
table on stdout and progress on stderr. It never fails on a figure: it exits
1 only when a command fails or prints the wrong thing (or the fake cannot
start).

Peak RSS: Linux records the high-water mark of the address space a process
had before exec in its ru_maxrss, so a command spawned straight from this
(python, tens of MB) process would report python's peak instead of its own.
Each command is therefore started by bench-run, a few lines of C compiled
with $CC (default cc) into the temporary directory, which spawns it, waits
for it with wait4 and reports its wall time (CLOCK_MONOTONIC around
spawn + wait) and rusage. Without a compiler the commands are spawned with
subprocess.Popen and timed with time.perf_counter, and peak RSS is "n/a".

    /usr/bin/python3 tests/bench.py --build build [--sizes 1000,10000]
                                    [--runs-scale 1.0] [--keep]
"""

import argparse
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FAKE = os.path.join(ROOT, "tests", "fake_ec2.py")

ACCESS_KEY = "AKIDTEST"
SECRET_KEY = "secrettestkey0123456789"
REGION = "us-east-1"
SEED = 20260101
RUN_TIMEOUT = 300  # seconds; a command still running then is killed (a failure)

# Runs per measurement at --runs-scale 1.
RUNS = {"refresh": 3, "hit": 30, "live": 5, "dna": 10, "floor": 30}

ROLES = ["web", "api", "mongo", "redis", "worker", "cache", "search", "queue", "db",
         "batch"]
# The config group of each role: one Puppet class and one Chef recipe.
ROLE_CLASS = {"web": "nginx", "api": "profile::api", "mongo": "mongodb",
              "redis": "redis", "worker": "profile::worker", "cache": "memcached",
              "search": "elasticsearch", "queue": "rabbitmq", "db": "postgresql",
              "batch": "profile::batch"}
ROLE_RECIPE = {"web": "nginx", "api": "api", "mongo": "mongodb", "redis": "redis",
               "worker": "worker", "cache": "memcached", "search": "elasticsearch",
               "queue": "rabbitmq", "db": "postgresql", "batch": "batch"}
# Security groups not named after a role (10 role groups + these 10 = 20).
OTHER_SGS = ["default", "ssh", "monitoring", "bastion", "internal", "vpn", "elb",
             "logging", "backup", "nat"]
# Environments and their share of the fleet: production is 3,000 of 10,000.
ENVS = [("production", 0.3), ("staging", 0.2), ("dev", 0.5)]
PEER_ENV = "production"
AZS = ["us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d", "us-east-1e",
       "us-east-1f"]
TYPES = ["t3.micro", "t3.small", "t3.medium", "t3.large", "m5.large", "m5.xlarge",
         "m6i.large", "c5.large", "c6i.xlarge", "r5.large", "r6g.xlarge"]
TEAMS = ["platform", "payments", "search", "growth", "data", "identity", "mobile",
         "infra"]
OWNERS = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi",
          "ivan", "judy"]

# Targets for the 10,000-instance fleet (informational: never a failure).
TARGET_SIZE = 10000

LAUNCHER_C = r"""
/* bench-run RESULT-FILE PROGRAM [ARG]...: run PROGRAM (an absolute path) with
 * this process's stdin, stdout and stderr, wait for it with wait4 and write
 * "STATUS WALL_NS UTIME_US STIME_US MAXRSS_KIB" to RESULT-FILE. Being small,
 * it keeps the child's ru_maxrss the child's own (written by tests/bench.py). */
#define _GNU_SOURCE
#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

int main(int argc, char **argv)
{
	struct timespec t0, t1;
	struct rusage ru;
	int status, rc;
	pid_t pid;
	FILE *out;

	if (argc < 3 || !(out = fopen(argv[1], "we")))
		return 125;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = posix_spawn(&pid, argv[2], NULL, NULL, argv + 2, environ);
	if (rc != 0) {
		fprintf(stderr, "bench-run: %s: spawn failed (errno %d)\n", argv[2], rc);
		return 125;
	}
	while (wait4(pid, &status, 0, &ru) < 0)
		if (errno != EINTR)
			return 125;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	fprintf(out, "%d %lld %lld %lld %ld\n", status,
	        (long long)(t1.tv_sec - t0.tv_sec) * 1000000000LL + (t1.tv_nsec - t0.tv_nsec),
	        (long long)ru.ru_utime.tv_sec * 1000000LL + ru.ru_utime.tv_usec,
	        (long long)ru.ru_stime.tv_sec * 1000000LL + ru.ru_stime.tv_usec,
	        ru.ru_maxrss);
	return fclose(out) == 0 ? 0 : 125;
}
"""


class BenchError(Exception):
    """A command failed or printed the wrong thing, or the set-up failed."""


def progress(msg):
    print("bench: " + msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------
# Fleet and config


def generate_fleet(n, seed=SEED):
    """A deterministic fleet of n running instances in us-east-1.

    Returns (fleet document for fake_ec2.py, [instance summary]) where a
    summary is {"id", "name", "env", "roles"}.
    """
    rng = random.Random("%d/%d" % (seed, n))
    sg_ids = {name: "sg-0%016x" % rng.getrandbits(64) for name in ROLES + OTHER_SGS}
    subnets = {az: "subnet-0%016x" % rng.getrandbits(64) for az in AZS}
    vpc = "vpc-0%016x" % rng.getrandbits(64)
    amis = ["ami-0%016x" % rng.getrandbits(64) for _ in range(6)]
    stacks = ["%s-%s" % (team, kind) for team in TEAMS for kind in ("app", "data", "net")]

    # Exact environment counts (30/20/50 %), shuffled over the fleet.
    envs = []
    for k, (env, share) in enumerate(ENVS):
        count = n - len(envs) if k == len(ENVS) - 1 else round(n * share)
        envs += [env] * count
    rng.shuffle(envs)

    ids, ips, public_ips = set(), set(), set()
    instances, summary = [], []
    for k in range(n):
        while True:
            iid = "i-0%016x" % rng.getrandbits(64)
            if iid not in ids:
                ids.add(iid)
                break
        roles = rng.sample(ROLES, 1 if rng.random() < 0.7 else 2)
        env = envs[k]
        name = "%s-%05d" % (roles[0], k)
        az_index = rng.randrange(len(AZS))
        while True:  # 10.0.0.0/16, one /19 per availability zone
            ip = "10.0.%d.%d" % (az_index * 32 + rng.randrange(32), rng.randrange(4, 255))
            if ip not in ips:
                ips.add(ip)
                break
        sgs = [roles[0]] + rng.sample(OTHER_SGS, rng.randint(1, 3))
        tags = [["Name", name], ["env", env], ["roles", ",".join(roles)]]
        team = rng.choice(TEAMS)
        extra = [
            ["team", team],
            ["cost-center", "cc-%04d" % rng.randrange(1000, 1100)],
            ["owner", rng.choice(OWNERS) + "@example.com"],
            ["aws:cloudformation:stack-name", rng.choice(stacks)],
            ["aws:cloudformation:logical-id", roles[0].capitalize() + "Instance"],
            ["aws:autoscaling:groupName", "%s-%s-asg" % (env, roles[0])],
            ["managed-by", "puppet"],
            ["backup", rng.choice(["daily", "weekly", "none"])],
            ["project", team + "-" + rng.choice(["core", "edge", "batch", "api"])],
            ["created", "2025-%02d-%02d" % (rng.randint(1, 12), rng.randint(1, 28))],
        ]
        tags += rng.sample(extra, rng.randint(2, 7))  # 5 to 10 tags in all
        inst = {
            "id": iid,
            "state": "running",
            "type": rng.choice(TYPES),
            "image": rng.choice(amis),
            "az": AZS[az_index],
            "vpc": vpc,
            "subnet": subnets[AZS[az_index]],
            "private_ip": ip,
            "launch_time": "2025-%02d-%02dT%02d:%02d:%02d.000Z" % (
                rng.randint(1, 12), rng.randint(1, 28), rng.randrange(24),
                rng.randrange(60), rng.randrange(60)),
            "groups": [[sg_ids[sg], sg] for sg in sgs],
            "tags": tags,
        }
        if "web" in roles and rng.random() < 0.5:
            while True:
                pub = "54.%d.%d.%d" % (rng.randrange(144, 256), rng.randrange(256),
                                       rng.randrange(1, 255))
                if pub not in public_ips:
                    public_ips.add(pub)
                    break
            inst["public_ip"] = pub
        instances.append(inst)
        summary.append({"id": iid, "name": name, "env": env, "roles": roles})
    doc = {"comment": "bench fleet: %d running instances in %s, generated by tests/bench.py "
                      "(seed %d)" % (n, REGION, seed),
           "regions": {REGION: instances}}
    return doc, summary


def write_config(path, cache_path):
    q = json.dumps  # a JSON string is a double-quoted YAML scalar
    lines = [
        "aws: {region: %s}" % q(REGION),
        "cache: {path: %s, max_age: 3600, stale_max_age: 86400}" % q(cache_path),
        "tags: {environment: env, roles: roles}",
        "groups:",
        "  __base__: {classes: {common: {}}, run_list: [%s]}" % q("recipe[base]"),
    ]
    for role in ROLES:
        lines.append("  %s: {classes: {%s: {}}, run_list: [%s]}"
                     % (role, q(ROLE_CLASS[role]), q("recipe[%s]" % ROLE_RECIPE[role])))
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


# --------------------------------------------------------------------------
# The fake


class FakeServer:
    """tests/fake_ec2.py on a fleet file (started the way tests/e2e.py does)."""

    def __init__(self, fleet_path, workdir, tag):
        self.port_file = os.path.join(workdir, "port-" + tag)
        self.log = os.path.join(workdir, "fake-" + tag + ".log")
        self.proc = subprocess.Popen(
            [sys.executable, FAKE, "--fleet", fleet_path, "--port-file", self.port_file,
             "--log", self.log, "--cred", ACCESS_KEY + ":" + SECRET_KEY],
            stdout=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while not os.path.exists(self.port_file):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise BenchError("fake_ec2.py did not start; its log:\n" + tail(self.log))
            time.sleep(0.05)
        with open(self.port_file) as f:
            self.url = "http://127.0.0.1:%d" % int(f.read().strip())

    def stats(self):
        with urllib.request.urlopen(self.url + "/__control/stats", timeout=30) as r:
            return json.loads(r.read())

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def tail(path, limit=4000):
    try:
        with open(path, errors="replace") as f:
            return f.read()[-limit:]
    except OSError as e:
        return "(%s)" % e


# --------------------------------------------------------------------------
# Running one command


def build_launcher(work):
    """Compile bench-run into work; its path, or None without a compiler."""
    src = os.path.join(work, "bench-run.c")
    exe = os.path.join(work, "bench-run")
    with open(src, "w") as f:
        f.write(LAUNCHER_C)
    cc = os.environ.get("CC") or "cc"
    try:
        p = subprocess.run([cc, "-O2", "-o", exe, src], stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as e:
        progress("cannot compile bench-run (%s): peak RSS will be n/a" % e)
        return None
    if p.returncode != 0:
        progress("cannot compile bench-run with %s: peak RSS will be n/a\n%s"
                 % (cc, p.stdout.decode(errors="replace").rstrip()))
        return None
    return exe


class Runner:
    """Runs measured commands in one closed environment."""

    def __init__(self, work, launcher):
        self.work = work
        self.launcher = launcher
        self.out_path = os.path.join(work, "run.stdout")
        self.err_path = os.path.join(work, "run.stderr")
        self.res_path = os.path.join(work, "run.result")

    def run(self, argv, env, fake=None):
        """Run argv once; a dict with exit, wall_ms, cpu_ms, rss_kib, requests,
        stdout (bytes) and stderr (text)."""
        before = fake.stats() if fake else None
        cmd = [self.launcher, self.res_path] + argv if self.launcher else argv
        if self.launcher and os.path.exists(self.res_path):
            os.unlink(self.res_path)
        with open(os.devnull, "rb") as fin, open(self.out_path, "wb") as fout, \
                open(self.err_path, "wb") as ferr:
            killed = []

            def kill():
                killed.append(True)
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except OSError:
                    pass

            timer = threading.Timer(RUN_TIMEOUT, kill)
            timer.start()
            try:
                t0 = time.perf_counter()
                p = subprocess.Popen(cmd, stdin=fin, stdout=fout, stderr=ferr, env=env,
                                     start_new_session=True)
                try:
                    _, status, ru = os.wait4(p.pid, 0)
                except BaseException:  # interrupted: take the command down with us
                    kill()
                    p.wait()
                    raise
                t1 = time.perf_counter()
            finally:
                timer.cancel()
            p.returncode = os.waitstatus_to_exitcode(status)
        with open(self.out_path, "rb") as f:
            out = f.read()
        with open(self.err_path, "rb") as f:
            err = f.read().decode(errors="replace")
        result = {"argv": argv, "stdout": out, "stderr": err}
        if killed:
            raise BenchError("%s: killed after %d s\nstderr:\n%s"
                             % (show_cmd(argv), RUN_TIMEOUT, err[-4000:]))
        if self.launcher:
            if p.returncode != 0:
                raise BenchError("bench-run failed (exit %d) for %s\n%s"
                                 % (p.returncode, show_cmd(argv), err[-4000:]))
            with open(self.res_path) as f:
                st, wall_ns, utime, stime, maxrss = (int(x) for x in f.read().split())
            result.update(exit=os.waitstatus_to_exitcode(st), wall_ms=wall_ns / 1e6,
                          cpu_ms=(utime + stime) / 1e3, rss_kib=maxrss)
        else:
            result.update(exit=p.returncode, wall_ms=(t1 - t0) * 1e3,
                          cpu_ms=(ru.ru_utime + ru.ru_stime) * 1e3, rss_kib=None)
        if fake:
            after = fake.stats()
            result["requests"] = after["ec2_requests"] - before["ec2_requests"]
            if after["auth_failures"] != before["auth_failures"]:
                raise BenchError("%s: the fake refused %d signature(s)"
                                 % (show_cmd(argv),
                                    after["auth_failures"] - before["auth_failures"]))
        else:
            result["requests"] = None
        return result


def show_cmd(argv):
    return " ".join([os.path.basename(argv[0])] + argv[1:])


def fail(result, why):
    raise BenchError("%s: %s (exit %s)\nstderr:\n%s\nstdout (start):\n%s"
                     % (show_cmd(result["argv"]), why, result["exit"],
                        result["stderr"].rstrip()[-4000:] or "(empty)",
                        result["stdout"][:2000].decode(errors="replace") or "(empty)"))


def need_success(result):
    if result["exit"] != 0:
        fail(result, "failed")


def check_refresh(result, cache_path):
    need_success(result)
    lines = result["stderr"].splitlines()
    if len(lines) != 1 or not lines[0].strip():
        fail(result, "stderr should be one summary line, got %d lines" % len(lines))
    if result["stdout"]:
        fail(result, "stdout should be empty")
    if not os.path.isfile(cache_path):
        fail(result, "no cache file %s afterwards" % cache_path)


def check_enc(result, inst):
    need_success(result)
    text = result["stdout"].decode("utf-8", errors="replace")
    if not text.startswith("---"):
        fail(result, "not a YAML document")
    if not re.search(r"^  ec2_instance_id: %s$" % re.escape(inst["id"]), text, re.M):
        fail(result, "ec2_instance_id is not %s" % inst["id"])
    env = re.findall(r"^environment: (\S+)$", text, re.M)
    if env != [inst["env"]]:
        fail(result, "environment %r, want %r" % (env, inst["env"]))
    for role in inst["roles"]:
        name = re.escape(ROLE_CLASS[role])  # quoted when it holds "::"
        if not re.search(r'^  (%s|"%s"): \{\}$' % (name, name), text, re.M):
            fail(result, "class %s (role %s) missing" % (ROLE_CLASS[role], role))


def check_dna(result, inst, peer_counts):
    need_success(result)
    try:
        doc = json.loads(result["stdout"])
        ec2 = doc["ec2"]
        peers = ec2["peers"]
    except (ValueError, KeyError, TypeError) as e:
        fail(result, "not a dna document with ec2.peers (%s)" % e)
    if ec2.get("instance_id") != inst["id"] or ec2.get("environment") != inst["env"]:
        fail(result, "ec2.instance_id/environment %r/%r, want %r/%r"
             % (ec2.get("instance_id"), ec2.get("environment"), inst["id"], inst["env"]))
    got = {role: len(members) for role, members in peers.items()}
    if got != peer_counts:
        fail(result, "peers per role %r, want %r" % (got, peer_counts))
    for role in inst["roles"]:
        if not any(m.get("instance_id") == inst["id"] for m in peers[role]):
            fail(result, "the node is not among its own %s peers" % role)
    want_run_list = ["recipe[base]"] + ["recipe[%s]" % ROLE_RECIPE[r] for r in ROLES
                                        if r in inst["roles"]]
    if doc.get("run_list") != want_run_list:
        fail(result, "run_list %r, want %r" % (doc.get("run_list"), want_run_list))


def check_floor(result, size):
    need_success(result)
    if len(result["stdout"]) != size:
        fail(result, "printed %d bytes, want %d" % (len(result["stdout"]), size))


# --------------------------------------------------------------------------
# One fleet size


def scaled(kind, scale):
    return max(1, round(RUNS[kind] * scale))


def bench_size(n, args, work, runner, build):
    progress("%d: generating the fleet" % n)
    doc, summary = generate_fleet(n)
    fleet_path = os.path.join(work, "fleet-%d.json" % n)
    with open(fleet_path, "w") as f:
        json.dump(doc, f)
    cache_path = os.path.join(work, "fleet-%d.db" % n)
    config = os.path.join(work, "config-%d.yaml" % n)
    write_config(config, cache_path)
    home = os.path.join(work, "home-%d" % n)
    os.makedirs(home, exist_ok=True)

    env_count = sum(1 for i in summary if i["env"] == PEER_ENV)
    peer_counts = {}
    for inst in summary:
        if inst["env"] == PEER_ENV:
            for role in inst["roles"]:
                peer_counts[role] = peer_counts.get(role, 0) + 1

    rng = random.Random("%d/%d/picks" % (SEED, n))
    enc = os.path.join(build, "enc")
    dna = os.path.join(build, "dna-gen")
    cat = shutil.which("cat", path="/usr/bin:/bin") or "/bin/cat"
    results = {}

    progress("%d: starting the fake (%d instances)" % (n, n))
    fake = FakeServer(fleet_path, work, str(n))
    try:
        env = {"PATH": "/usr/bin:/bin", "HOME": home, "LANG": "C.UTF-8",
               "AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
               "AWS_REGION": REGION, "AWS_ENDPOINT_URL_EC2": fake.url,
               "AWS_EC2_METADATA_DISABLED": "true"}

        def measure(label, kind, make_argv, check):
            runs = []
            total = scaled(kind, args.runs_scale)
            for k in range(total):
                argv, what = make_argv(k)
                progress("%d: %s %d/%d" % (n, label, k + 1, total))
                r = runner.run(argv, env, fake if kind != "floor" else None)
                check(r, what)
                runs.append(r)
            results[label] = runs
            return runs

        measure("enc --refresh", "refresh",
                lambda k: ([enc, "-c", config, "--refresh"], None),
                lambda r, _: check_refresh(r, cache_path))

        # Cache hits, alternating with the floor so that drift hits both alike.
        # One untimed hit first gives the size of the floor's file.
        first = summary[rng.randrange(n)]
        r = runner.run([enc, "-c", config, first["name"]], env, fake)
        check_enc(r, first)
        floor_file = os.path.join(work, "floor-%d.yaml" % n)
        with open(floor_file, "wb") as f:
            f.write(r["stdout"])
        floor_size = len(r["stdout"])
        hits, floors = [], []
        n_hit, n_floor = scaled("hit", args.runs_scale), scaled("floor", args.runs_scale)
        picks = rng.sample(summary, min(n_hit, n))
        for k in range(max(n_hit, n_floor)):
            if k < n_hit:
                inst = picks[k % len(picks)]
                progress("%d: enc CERTNAME (cache hit) %d/%d" % (n, k + 1, n_hit))
                r = runner.run([enc, "-c", config, inst["name"]], env, fake)
                check_enc(r, inst)
                hits.append(r)
            if k < n_floor:
                progress("%d: cat (floor) %d/%d" % (n, k + 1, n_floor))
                r = runner.run([cat, floor_file], env)
                check_floor(r, floor_size)
                floors.append(r)
        results["enc CERTNAME (cache hit)"] = hits

        live_picks = rng.sample(summary, min(scaled("live", args.runs_scale), n))
        measure("enc --live CERTNAME", "live",
                lambda k: ([enc, "-c", config, "--live",
                            live_picks[k % len(live_picks)]["name"]],
                           live_picks[k % len(live_picks)]),
                check_enc)

        in_env = [i for i in summary if i["env"] == PEER_ENV]
        dna_picks = rng.sample(in_env, min(scaled("dna", args.runs_scale), len(in_env)))
        measure("dna-gen ID (hit, env of %s)" % fmt_int(env_count), "dna",
                lambda k: ([dna, "-c", config, dna_picks[k % len(dna_picks)]["id"]],
                           dna_picks[k % len(dna_picks)]),
                lambda r, inst: check_dna(r, inst, peer_counts))

        results["cat (floor, %d B)" % floor_size] = floors
        return results
    finally:
        fake.stop()


# --------------------------------------------------------------------------
# Figures


def median(xs):
    s = sorted(xs)
    m = len(s) // 2
    return s[m] if len(s) % 2 else (s[m - 1] + s[m]) / 2


def percentile(xs, p):
    s = sorted(xs)
    pos = (len(s) - 1) * p / 100
    lo = int(pos)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def fmt_ms(x):
    return "%.2f" % x if x < 10 else "%.1f" % x if x < 100 else "%.0f" % x


def fmt_int(n):
    return "{:,}".format(n)


def summarize(runs):
    walls = [r["wall_ms"] for r in runs]
    rss = [r["rss_kib"] for r in runs if r["rss_kib"] is not None]
    reqs = [r["requests"] for r in runs if r["requests"] is not None]
    return {
        "runs": len(runs),
        "wall": median(walls),
        "min": min(walls), "max": max(walls),
        "p10": percentile(walls, 10), "p90": percentile(walls, 90),
        "cpu": median([r["cpu_ms"] for r in runs]),
        "rss_mib": max(rss) / 1024 if rss else None,
        "req_min": min(reqs) if reqs else None,
        "req_max": max(reqs) if reqs else None,
    }


def fmt_reqs(s):
    if s["req_min"] is None:
        return "-"
    if s["req_min"] == s["req_max"]:
        return str(s["req_min"])
    return "%d-%d" % (s["req_min"], s["req_max"])


def print_table(all_results, launcher):
    header = ["fleet", "measurement", "runs", "wall med ms", "min-max ms", "p10-p90 ms",
              "CPU med ms", "RSS max MiB", "EC2 req/run"]
    rows, ratios, stats = [], [], {}
    for n, results in all_results:
        for label, runs in results.items():
            s = summarize(runs)
            rows.append([fmt_int(n), label, str(s["runs"]), fmt_ms(s["wall"]),
                         "%s-%s" % (fmt_ms(s["min"]), fmt_ms(s["max"])),
                         "%s-%s" % (fmt_ms(s["p10"]), fmt_ms(s["p90"])),
                         fmt_ms(s["cpu"]),
                         "n/a" if s["rss_mib"] is None else "%.1f" % s["rss_mib"],
                         fmt_reqs(s)])
        hit = summarize(results["enc CERTNAME (cache hit)"])
        floor = summarize(next(v for k, v in results.items() if k.startswith("cat")))
        ratios.append((n, hit["wall"] / floor["wall"] if floor["wall"] else float("inf")))
        stats[(n, "hit")], stats[(n, "floor")] = hit, floor
    widths = [max(len(r[i]) for r in rows + [header]) for i in range(len(header))]
    left = {0, 1}

    def line(cells):
        return "  ".join(c.ljust(w) if i in left else c.rjust(w)
                         for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    print("wall: %s; CPU: user+sys of the command; RSS: %s"
          % (("spawn+wait4 timed by bench-run (CLOCK_MONOTONIC)", "its peak (ru_maxrss)")
             if launcher else ("time.perf_counter around Popen + wait4",
                               "n/a without bench-run (python's own peak would show)")))
    print(line(header))
    print(line(["-" * w for w in widths]))
    prev = None
    for r in rows:
        if prev is not None and r[0] != prev:
            print()
        prev = r[0]
        print(line(r))
    print()
    for n, ratio in ratios:
        print("%s: enc cache hit / floor (cat) = %.2fx" % (fmt_int(n), ratio))
    return stats


def print_targets(all_results, stats):
    sizes = [n for n, _ in all_results]
    print()
    if TARGET_SIZE not in sizes:
        print("targets are for the %s-instance fleet, which was not run"
              % fmt_int(TARGET_SIZE))
        return
    results = dict(all_results)[TARGET_SIZE]
    hit = stats[(TARGET_SIZE, "hit")]
    floor = stats[(TARGET_SIZE, "floor")]
    refresh = summarize(results["enc --refresh"])
    dna = summarize(next(v for k, v in results.items() if k.startswith("dna-gen")))

    def rss(s, limit):
        if s["rss_mib"] is None:
            return "n/a", "n/a"
        return "%.1f MiB" % s["rss_mib"], yes(s["rss_mib"] < limit)

    ratio = hit["wall"] / floor["wall"] if floor["wall"] else float("inf")
    rows = [
        ("enc cache hit: wall median <= 3 ms", "%s ms" % fmt_ms(hit["wall"]),
         yes(hit["wall"] <= 3)),
        ("enc cache hit: <= 2x floor (cat)", "%.2fx" % ratio, yes(ratio <= 2)),
        ("enc cache hit: peak RSS < 8 MiB",) + rss(hit, 8),
        ("enc cache hit: 0 EC2 requests", fmt_reqs(hit), yes(hit["req_max"] == 0)),
        ("enc --refresh: 10 EC2 requests", fmt_reqs(refresh),
         yes(refresh["req_min"] == refresh["req_max"] == 10)),
        ("enc --refresh: CPU < 0.5 s", "%.3f s" % (refresh["cpu"] / 1000),
         yes(refresh["cpu"] < 500)),
        ("enc --refresh: peak RSS < 40 MiB",) + rss(refresh, 40),
        ("dna-gen cache hit, %s-instance env: < 30 ms"
         % fmt_int(round(TARGET_SIZE * dict(ENVS)[PEER_ENV])),
         "%s ms" % fmt_ms(dna["wall"]), yes(dna["wall"] < 30)),
    ]
    header = ("target (%s instances; informational)" % fmt_int(TARGET_SIZE), "figure",
              "meets")
    widths = [max(len(r[i]) for r in rows + [header]) for i in range(3)]
    for r in [header, tuple("-" * w for w in widths)] + rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())


def yes(ok):
    return "yes" if ok else "no"


# --------------------------------------------------------------------------


def parse_sizes(text):
    try:
        sizes = [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError("expected sizes like 1000,10000") from None
    if not sizes or any(s < 10 for s in sizes):
        raise argparse.ArgumentTypeError("expected sizes of at least 10, like 1000,10000")
    return sizes


def main():
    ap = argparse.ArgumentParser(description="Benchmark enc and dna-gen on generated "
                                 "fleets against tests/fake_ec2.py.")
    ap.add_argument("--build", default="build", help="directory holding enc and dna-gen")
    ap.add_argument("--sizes", type=parse_sizes, default=[1000, 10000],
                    help="fleet sizes, comma-separated (default 1000,10000)")
    ap.add_argument("--runs-scale", type=float, default=1.0,
                    help="multiply every run count (at least 1 run each; default 1)")
    ap.add_argument("--keep", action="store_true",
                    help="keep the temporary directory (fleets, configs, fake logs)")
    args = ap.parse_args()
    if not args.runs_scale > 0:
        ap.error("--runs-scale must be positive")
    build = os.path.abspath(args.build)
    for name in ("enc", "dna-gen"):
        if not os.access(os.path.join(build, name), os.X_OK):
            print("bench: %s/%s is missing; run make first" % (build, name),
                  file=sys.stderr)
            return 1

    def on_term(signum, _frame):
        raise KeyboardInterrupt("signal %d" % signum)

    signal.signal(signal.SIGTERM, on_term)
    work = tempfile.mkdtemp(prefix="bench-")
    try:
        launcher = build_launcher(work)
        runner = Runner(work, launcher)
        all_results = []
        for n in args.sizes:
            all_results.append((n, bench_size(n, args, work, runner, build)))
        stats = print_table(all_results, launcher)
        print_targets(all_results, stats)
        return 0
    except BenchError as e:
        print("bench: FAILED: %s" % e, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("bench: interrupted", file=sys.stderr)
        return 130
    finally:
        if args.keep:
            progress("kept %s" % work)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
