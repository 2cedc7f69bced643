#!/usr/bin/python3
"""The fleet cache end to end: enc/dna-gen --refresh, cache hits, the live
fallback for new instances, the stale fallback, broken caches, the lock,
SIGKILL during a refresh, and readers racing a refresh.

These are scenarios (several commands and checks in order), so they are
code rather than fixtures/e2e cases; each says why it exists. Run:
    tests/cache_e2e.py --build build [NAME...]
--wrap, --wrap-logs and --time-scale are e2e.py's (make valgrind): every
binary runs under the wrapper, its logs are checked after each scenario,
except the refreshes test_kill_during_refresh SIGKILLs at set moments,
which run bare (a wrapper's slowness moves the moment; a killed process
leaves no report).
"""

import argparse
import concurrent.futures
import fcntl
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e import EXPECTED, FIXTURES, SECRETS, Fake, Wrap, base_env  # noqa: E402

CONFIG = os.path.join(FIXTURES, "configs", "chef.yaml")


class Failed(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failed(what)


class Ctx:
    def __init__(self, build, fake, tmp, wrap=Wrap(None, None), logdir=None):
        self.build, self.fake, self.tmp = build, fake, tmp
        self.wrap, self.logdir, self.runs = wrap, logdir, 0
        self.db = os.path.join(tmp, "fleet.db")
        self.config = self.write_config()

    def write_config(self, extra_cache="", name="config.yaml", aws=None):
        with open(CONFIG) as f:
            text = f.read()
        if aws is not None:
            text = text.replace("aws:\n  region: us-east-1\n", "aws: %s\n" % aws)
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(text + "cache: {path: %s%s}\n" % (self.db, extra_cache))
        return path

    def env(self):
        return base_env(self.tmp, self.fake)

    def argv(self, prog, *args, config=None):
        """prog's command line, under the wrapper if there is one."""
        argv = [os.path.join(self.build, prog), "-c", config or self.config] + list(args)
        if self.wrap:
            self.runs += 1
        return self.wrap.argv(argv, self.logdir)

    def run(self, prog, *args, config=None, want=0, timeout=60):
        argv = self.argv(prog, *args, config=config)
        p = subprocess.run(argv, env=self.env(), capture_output=True,
                           timeout=timeout * self.wrap.time_scale)
        out, err = p.stdout.decode(), p.stderr.decode()
        for s in SECRETS:
            check(s not in out and s not in err, "a secret in the output of %s" % argv)
        if "Sanitizer" in err or "runtime error" in err:
            raise Failed("sanitizer report:\n" + err)
        if want is not None and p.returncode != want:
            raise Failed("%s exited %d, want %d; stderr: %s" % (
                " ".join(argv[1:]), p.returncode, want, err))
        if p.returncode != 0:
            check(out == "", "stdout not empty on failure")
            check(err.count("\n") == 1, "stderr is not one line: %r" % err)
        return p.returncode, out, err

    def refresh(self, config=None, regions=1):
        rc, out, err = self.run("enc", "--refresh", config=config)
        check(out == "", "refresh printed on stdout")
        check(re.fullmatch(r"enc: refreshed %s: \d+ instances, %d regions?( of \d+ profiles)?, \d+ pages, "
                           r"\d+ requests, [0-9.]+ s\n" % (re.escape(self.db), regions),
                           err),
              "refresh summary: %r" % err)
        return err

    def sources(self):
        db = sqlite3.connect("file:%s?mode=ro" % self.db, uri=True)
        try:
            return {(p, r): (t, n) for p, r, t, n in db.execute(
                "SELECT profile, region, refreshed, instances FROM sources")}
        finally:
            db.close()

    def requests(self):
        return self.fake.control("stats")["ec2_requests"]

    def expected(self, name):
        with open(os.path.join(EXPECTED, name)) as f:
            return f.read()

    def leftovers(self):
        return sorted(n for n in os.listdir(self.tmp) if ".new-" in n)


def test_hit_matches_live(c):
    """A cache hit answers with no EC2 request and prints exactly what the
    live lookup prints, for enc and for dna-gen with peers in all three
    peer paths (tag filter, untagged default, environment from a group)."""
    c.refresh()
    st = os.stat(c.db)
    check(st.st_mode & 0o777 == 0o640, "cache mode %o, want 640" % (st.st_mode & 0o777))
    with open(c.db, "rb") as f:
        data = f.read()
    for s in SECRETS + ["AKIDTEST"]:
        check(s.encode() not in data, "the cache holds a credential")
    c.fake.control("fault", {"kind": "throttle", "count": -1})
    before = c.requests()
    for node, expected in [("i-0c000000000000003", "dna-prod-api.json"),
                           ("api-s1", "dna-staging-two-roles.json"),
                           ("ci-1", "dna-dev-from-group.json"),
                           ("i-0c000000000000009", "dna-pending-self.json")]:
        _, out, err = c.run("dna-gen", node)
        check(out == c.expected(expected), "dna-gen %s from the cache differs from %s"
              % (node, expected))
        check(err == "", "stderr on a cache hit: %r" % err)
    _, out, _ = c.run("enc", "web-s1")
    check("ec2_instance_id: i-0c000000000000012" in out, "enc from the cache: %r" % out)
    check(c.requests() == before, "a cache hit made %d EC2 requests" % (c.requests() - before))
    # ambiguous in the cache, as live
    rc, out, err = c.run("dna-gen", "mongo-1", want=4)
    check("i-0c000000000000004" in err and "i-0c000000000000005" in err, err)
    c.fake.control("reset")
    _, live, _ = c.run("dna-gen", "--live", "i-0c000000000000003")
    check(live == c.expected("dna-prod-api.json"), "--live output differs")
    check(c.requests() >= 2, "--live made no request")


def test_new_instance_live(c):
    """An instance that booted after the refresh is not in the cache: it is
    looked up live and classified at once."""
    c.fake.control("config", {"hidden": ["i-0c000000000000003"]})
    c.refresh()
    c.fake.control("reset")
    _, out, _ = c.run("dna-gen", "i-0c000000000000003")
    check(c.requests() >= 1, "the new instance was not looked up live")
    # the cache's peers lack it; the node adds itself: the same document
    check(out == c.expected("dna-prod-api.json"), "new instance output")
    c.fake.control("fault", {"kind": "throttle", "count": -1})
    c.run("enc", "i-0c000000000000003", want=3)


def test_stale_fallback(c):
    """When EC2 fails, a cache older than max_age but younger than
    stale_max_age answers with one warning line and exit 0; older, exit 3."""
    stale = c.write_config(", max_age: 0, stale_max_age: 86400", "stale.yaml")
    c.refresh(stale)
    c.fake.control("reset")
    before = c.requests()
    _, live, err = c.run("dna-gen", "i-0c000000000000003", config=stale)
    check(c.requests() > before and err == "", "max_age 0 did not go live")
    c.fake.control("fault", {"kind": "throttle", "count": -1})
    _, out, err = c.run("dna-gen", "i-0c000000000000003", config=stale)
    check(out == live, "stale answer differs from the live one")
    check(re.fullmatch(r"dna-gen: EC2 unavailable \(.*RequestLimitExceeded.*\); answering "
                       r"from the cache refreshed \d+ s ago\n", err), "warning: %r" % err)
    _, out, err = c.run("enc", "web-s1", config=stale)
    check(err.count("\n") == 1 and "answering from the cache" in err, err)
    old = c.write_config(", max_age: 0, stale_max_age: 0", "old.yaml")
    _, _, err = c.run("enc", "web-s1", config=old, want=3)
    check("RequestLimitExceeded" in err, err)


def test_broken_caches(c):
    """A file that is not SQLite, a cache of another schema version, a
    cache built with other aws.filters and an instance row whose tags are
    cut short are ignored with one warning (the lookup goes live) and
    replaced by the next refresh."""
    with open(c.db, "w") as f:
        f.write("this is not a database\n" * 100)
    _, out, err = c.run("enc", "web-s1")
    check(re.fullmatch(r"enc: ignoring cache .*fleet.db: .*; the next --refresh "
                       r"rebuilds it\n", err), "warning: %r" % err)
    c.refresh()
    c.fake.control("fault", {"kind": "throttle", "count": -1})
    _, _, err = c.run("enc", "web-s1")
    check(err == "", "a rebuilt cache still warns: %r" % err)
    c.fake.control("reset")
    db = sqlite3.connect(c.db)
    db.execute("UPDATE meta SET value = '99' WHERE key = 'schema'")
    db.commit()
    db.close()
    _, _, err = c.run("enc", "web-s1")
    check(re.fullmatch(r"enc: ignoring cache .* has schema version 99; this program reads "
                       r"version 3; the next --refresh rebuilds it\n", err), err)
    c.refresh()
    scoped = c.write_config("", "scoped.yaml")
    text = open(scoped).read().replace("aws:\n  region: us-east-1\n",
                                       "aws:\n  region: us-east-1\n  filters: {\"tag:env\": [staging]}\n")
    with open(scoped, "w") as f:
        f.write(text)
    _, _, err = c.run("enc", "web-s1", config=scoped)
    check("built with other aws.profiles or aws.filters" in err, err)
    with open(c.db, "wb") as f:
        f.write(b"")
    _, _, err = c.run("enc", "web-s1")
    check("ignoring" in err, "an empty file: %r" % err)
    # an instance's tags blob cut short (no NUL after the last value): the
    # row is refused with one line, never read past its end
    c.refresh()
    db = sqlite3.connect(c.db)
    db.execute("UPDATE instances SET tags = substr(tags, 1, length(tags) - 1) "
               "WHERE instance_id IN (SELECT instance_id FROM instances i, tags t "
               "WHERE t.n = i.n AND t.key = 'Name' AND t.value = 'web-s1')")
    db.commit()
    db.close()
    _, out, err = c.run("enc", "web-s1")
    check(re.fullmatch(r"enc: ignoring the cache: cache .*fleet.db: damaged tags or "
                       r"security groups of i-[0-9a-f]+\n", err), "damaged blob: %r" % err)
    _, live, _ = c.run("enc", "--live", "web-s1")
    check(out == live, "damaged blob: not the live answer")


def test_refresh_fails_keeps_cache(c):
    """A refresh that fails (EC2 throttling) exits 3 and leaves the old cache
    as it was, and no temporary file."""
    c.refresh()
    with open(c.db, "rb") as f:
        old = f.read()
    c.fake.control("fault", {"kind": "throttle", "count": -1})
    _, _, err = c.run("enc", "--refresh", want=3)
    check("RequestLimitExceeded" in err, err)
    with open(c.db, "rb") as f:
        check(f.read() == old, "the cache changed")
    check(c.leftovers() == [], "left %r" % c.leftovers())


def test_regions_partial_refresh(c):
    """aws.regions: one refresh reads both regions; a lookup finds an
    instance in whichever region it is, from the cache and live. When one
    region fails, the others are replaced, the failed one keeps its
    instances of the previous cache with their older refresh time, and the
    refresh says so in one line and exits 3; with nothing earlier to keep
    it says that; when every region fails the cache is left untouched."""
    cfg = c.write_config(name="regions.yaml",
                         aws="{region: us-east-1, regions: [us-east-1, eu-west-1]}")
    eu = "i-0c000000000000020"
    c.refresh(config=cfg, regions=2)
    first = c.sources()
    check(set(first) == {("", "us-east-1"), ("", "eu-west-1")}, "sources %r" % first)
    check(first[("", "eu-west-1")][1] == 1, "eu-west-1 count %r" % first)
    c.fake.control("fault", {"kind": "throttle", "count": -1})
    _, out, _ = c.run("enc", "web-eu", config=cfg)
    check("ec2_instance_id: %s" % eu in out, "eu-west-1 from the cache: %r" % out)
    c.fake.control("reset")
    _, out, _ = c.run("enc", "--live", "web-eu", config=cfg)
    check("ec2_region: eu-west-1" in out, "eu-west-1 live: %r" % out)
    # --region narrows a live lookup to that region
    c.run("enc", "--live", "--region", "us-east-1", "--describe", "web-eu", config=cfg,
          want=1)

    time.sleep(1.1)     # refresh times are in seconds
    # us-east-1 (one page) answers, then every request is throttled
    c.fake.control("fault", {"kind": "hang", "delay": 0, "count": 1})
    c.fake.control("fault", {"kind": "throttle", "count": -1})
    _, _, err = c.run("enc", "--refresh", config=cfg, want=3)
    check(re.fullmatch(r"enc: refreshed %s without 1 of 2 sources, first eu-west-1: "
                       r".*RequestLimitExceeded.*; the previous cache's instances of "
                       r"the failed kept \(1\)\n" % re.escape(c.db), err), err)
    second = c.sources()
    check(second[("", "eu-west-1")] == first[("", "eu-west-1")],
          "eu-west-1 not kept as it was: %r" % second)
    check(second[("", "us-east-1")][0] > first[("", "us-east-1")][0],
          "us-east-1 not refreshed: %r -> %r" % (first, second))
    _, out, _ = c.run("enc", "web-eu", config=cfg)
    check("ec2_instance_id: %s" % eu in out, "the kept instance: %r" % out)
    check(c.leftovers() == [], "left %r" % c.leftovers())

    # every region failing: the cache is not touched
    with open(c.db, "rb") as f:
        before = f.read()
    c.fake.control("reset")
    c.fake.control("fault", {"kind": "throttle", "count": -1})
    _, _, err = c.run("enc", "--refresh", config=cfg, want=3)
    check("RequestLimitExceeded" in err, err)
    with open(c.db, "rb") as f:
        check(f.read() == before, "a refresh where every region failed changed the cache")

    # nothing earlier to keep
    os.unlink(c.db)
    c.fake.control("reset")
    c.fake.control("fault", {"kind": "hang", "delay": 0, "count": 1})
    c.fake.control("fault", {"kind": "throttle", "count": -1})
    _, _, err = c.run("enc", "--refresh", config=cfg, want=3)
    check("no earlier instances of it to keep" in err, err)
    check(set(c.sources()) == {("", "us-east-1")}, "sources %r" % c.sources())


def test_list_and_all(c):
    """enc --list prints, for every instance of every region, the document
    enc INSTANCE-ID prints, in id order, live and from the cache alike; a
    node that cannot be classified is left out with one warning.
    dna-gen --all -o DIR writes DIR/ID.json equal to dna-gen ID, removes
    the files of instances gone, keeps other files and the old file of a
    node left out; without EC2 and a cache it exits 3 touching nothing."""
    cfg = c.write_config(name="regions.yaml",
                         aws="{region: us-east-1, regions: [us-east-1, eu-west-1]}")
    bad = "i-0c000000000000015"     # env tag 'Staging-2'
    rc, listed, err = c.run("enc", "--list", config=cfg)
    check(re.fullmatch(r"enc: %s: tag env='Staging-2' is not a valid Puppet "
                       r"environment name.*\n" % bad, err), "warning: %r" % err)
    docs = ["---" + d for d in listed.split("---")[1:]]
    ids = [re.search(r"ec2_instance_id: (i-\w+)", d).group(1) for d in docs]
    check(ids == sorted(ids) and len(ids) == 18 and bad not in ids
          and "i-0c000000000000020" in ids, "listed ids %r" % ids)
    for i, d in zip(ids, docs):
        _, one, _ = c.run("enc", i, config=cfg)
        check(one == d, "enc --list document of %s differs from enc %s" % (i, i))
    c.refresh(config=cfg, regions=2)
    c.fake.control("fault", {"kind": "throttle", "count": -1})
    before = c.requests()
    _, cached, _ = c.run("enc", "--list", config=cfg)
    check(cached == listed, "enc --list from the cache differs from live")

    out = os.path.join(c.tmp, "dna")
    os.mkdir(out)
    for name, text in [("i-0deadbeef.json", "{}"), ("notes.txt", "mine"),
                       (bad + ".json", "{\"old\": true}")]:
        with open(os.path.join(out, name), "w") as f:
            f.write(text)
    _, stdout, err = c.run("dna-gen", "--all", "-o", out, config=cfg)
    check(stdout == "", "dna-gen --all printed on stdout")
    check(err.endswith("%s: wrote 18 dna files, removed 1 of instances gone, left out 1\n"
                       % out), "summary %r" % err)
    check(c.requests() == before, "--all from a fresh cache asked EC2")
    names = sorted(os.listdir(out))
    check(names == sorted([i + ".json" for i in ids] + [bad + ".json", "notes.txt"]),
          "files %r" % names)
    with open(os.path.join(out, bad + ".json")) as f:
        check(f.read() == "{\"old\": true}", "the left-out node's old file changed")
    c.fake.control("reset")
    for i in ids:
        _, one, _ = c.run("dna-gen", "--live", i, config=cfg)
        with open(os.path.join(out, i + ".json")) as f:
            check(f.read() == one, "%s.json differs from dna-gen --live %s" % (i, i))
        check(oct(os.stat(os.path.join(out, i + ".json")).st_mode & 0o777) == "0o644",
              "mode of %s.json" % i)

    # no -o: usage; EC2 down and no cache: exit 3, nothing touched
    c.run("dna-gen", "--all", config=cfg, want=2)
    os.unlink(c.db)
    snapshot = {n: os.stat(os.path.join(out, n)).st_mtime_ns for n in os.listdir(out)}
    c.fake.control("fault", {"kind": "throttle", "count": -1})
    c.run("enc", "--list", config=cfg, want=3)
    c.run("dna-gen", "--all", "-o", out, config=cfg, want=3)
    check({n: os.stat(os.path.join(out, n)).st_mtime_ns for n in os.listdir(out)}
          == snapshot, "a failed --all changed the directory")


def test_two_regions_two_accounts(c):
    """A fleet of two accounts (aws.profiles: a profile with keys, and one
    assuming a role in account 222222222222 through STS) in two regions:
    live lookups find an instance in whichever account and region it is;
    one refresh reads the four sources (one AssumeRole for both regions)
    and the cache then answers exactly as live, with no request; enc
    --list spans both accounts; an account not configured is not seen."""
    fake = Fake("accounts", c.tmp)
    try:
        a = Ctx(c.build, fake, c.tmp, c.wrap, c.logdir)
        with open(os.path.join(c.tmp, "aws-config"), "w") as f:
            f.write("[profile cross]\nrole_arn = arn:aws:iam::222222222222:role/enc-read\n"
                    "source_profile = home\n")
        with open(os.path.join(c.tmp, "aws-credentials"), "w") as f:
            f.write("[home]\naws_access_key_id = AKIDTEST\n"
                    "aws_secret_access_key = secrettestkey0123456789\n")
        env = base_env(c.tmp, fake)
        del env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]
        env.update({"AWS_CONFIG_FILE": os.path.join(c.tmp, "aws-config"),
                    "AWS_SHARED_CREDENTIALS_FILE": os.path.join(c.tmp, "aws-credentials"),
                    "AWS_ENDPOINT_URL_STS": fake.url,
                    "AWS_EC2_METADATA_DISABLED": "true"})
        a.env = lambda: env
        with open(os.path.join(FIXTURES, "configs", "basic.yaml")) as f:
            text = f.read().replace(
                "aws:\n  region: us-east-1\n",
                "aws: {region: us-east-1, regions: [us-east-1, eu-west-1],"
                " profiles: [home, cross]}\n")
        cfg = os.path.join(c.tmp, "accounts.yaml")
        with open(cfg, "w") as f:
            f.write(text + "cache: {path: %s}\n" % a.db)

        live = {}
        for name, iid, region in [("home-1", "i-0c0c0c0c0c0c00001", "us-east-1"),
                                  ("cross-web01", "i-02222222222200001", "us-east-1"),
                                  ("cross-eu01", "i-02222222222200002", "eu-west-1")]:
            _, out, _ = a.run("enc", name, config=cfg)
            check("ec2_instance_id: %s" % iid in out and "ec2_region: %s" % region in out,
                  "live %s: %r" % (name, out))
            live[name] = out
        a.run("enc", "--describe", "deep-web01", config=cfg, want=1)

        stats = fake.control("stats")
        a.refresh(config=cfg, regions=2)
        after = fake.control("stats")
        check(after["sts_requests"] - stats["sts_requests"] == 1,
              "the refresh assumed the role %d times" %
              (after["sts_requests"] - stats["sts_requests"]))
        check(after["ec2_requests"] - stats["ec2_requests"] == 4,
              "the refresh made %d DescribeInstances" %
              (after["ec2_requests"] - stats["ec2_requests"]))
        got = {k: v[1] for k, v in a.sources().items()}
        check(got == {("home", "us-east-1"): 1, ("home", "eu-west-1"): 0,
                      ("cross", "us-east-1"): 1, ("cross", "eu-west-1"): 1},
              "sources %r" % got)

        fake.control("fault", {"kind": "throttle", "count": -1})
        fake.control("fault", {"kind": "throttle", "count": -1, "target": "sts"})
        before = fake.control("stats")
        for name, out in live.items():
            _, cached, _ = a.run("enc", name, config=cfg)
            check(cached == out, "%s from the cache differs from live" % name)
        _, listed, _ = a.run("enc", "--list", config=cfg)
        ids = re.findall(r"ec2_instance_id: (i-\w+)", listed)
        check(ids == ["i-02222222222200001", "i-02222222222200002",
                      "i-0c0c0c0c0c0c00001"], "listed %r" % ids)
        now = fake.control("stats")
        check(now["ec2_requests"] == before["ec2_requests"] and
              now["sts_requests"] == before["sts_requests"],
              "cache hits asked EC2 or STS")
    finally:
        fake.stop()


def test_lock(c):
    """A second refresh while one holds the lock exits 4 saying so."""
    with open(c.db + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        _, _, err = c.run("enc", "--refresh", want=4)
        check(re.fullmatch(r"enc: another refresh of .*fleet.db is running .*\n", err), err)
    c.refresh()


def test_kill_during_refresh(c):
    """SIGKILL at several points of a refresh (before the first answer,
    between pages, while the fake hangs on a page) leaves the previous cache
    intact and usable; the next refresh removes what the killed one left."""
    c.refresh()
    with open(c.db, "rb") as f:
        good = f.read()
    c.fake.control("config", {"page_size": 3})
    for delay in (0.05, 0.3, 0.7, 1.2):
        c.fake.control("fault", {"kind": "hang", "count": -1, "delay": 0.25})
        # bare, never wrapped: see the module's docstring
        p = subprocess.Popen([os.path.join(c.build, "enc"), "-c", c.config, "--refresh"],
                             env=c.env(), stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        time.sleep(delay)
        p.kill()
        p.wait()
        check(p.returncode == -signal.SIGKILL, "refresh ended before the kill (%s s)" % delay)
        with open(c.db, "rb") as f:
            check(f.read() == good, "the cache changed after a kill at %s s" % delay)
        c.fake.control("reset")
        c.fake.control("config", {"page_size": 3})
        c.fake.control("fault", {"kind": "throttle", "count": -1})
        _, out, _ = c.run("dna-gen", "i-0c000000000000003")
        check(out == c.expected("dna-prod-api.json"), "the cache answers wrongly after a kill")
        c.fake.control("reset")
        c.fake.control("config", {"page_size": 3})
    check(c.leftovers() != [], "the killed refreshes left nothing: the kills came too late")
    c.fake.control("reset")
    c.refresh()
    check(c.leftovers() == [], "the next refresh left %r" % c.leftovers())


def test_readers_during_refresh(c):
    """enc lookups, 10 at a time, at least 50, until a refresh (slowed by the
    fake) has replaced the cache: all succeed with the right output."""
    c.refresh()
    _, want, _ = c.run("enc", "web-s1")
    c.fake.control("config", {"page_size": 2})
    c.fake.control("fault", {"kind": "hang", "count": 6, "delay": 0.2})
    refresh = subprocess.Popen(c.argv("enc", "--refresh"),
                               env=c.env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def one(_):
        return c.run("enc", "web-s1", want=None)

    # readers in waves of 10 until the refresh has renamed its file in
    results = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=10) as pool:
        while refresh.poll() is None or len(results) < 50:
            results += list(pool.map(one, range(10)))
    _, err = refresh.communicate(timeout=60 * c.wrap.time_scale)
    check(refresh.returncode == 0, "the refresh failed: %r" % err)
    check(len(results) >= 50, "only %d readers" % len(results))
    bad = [r for r in results if r[0] != 0 or r[1] != want or r[2] != ""]
    check(not bad, "%d of 50 readers failed: %r" % (len(bad), bad[:2]))


TESTS = [test_regions_partial_refresh, test_list_and_all, test_two_regions_two_accounts, test_hit_matches_live, test_new_instance_live, test_stale_fallback,
         test_broken_caches, test_refresh_fails_keeps_cache, test_lock,
         test_kill_during_refresh, test_readers_during_refresh]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--wrap", default=os.environ.get("E2E_WRAP"),
                    help="command prefixed to every binary run (see e2e.py)")
    ap.add_argument("--wrap-logs", help="where the wrapper's {logdir}s go")
    ap.add_argument("--time-scale", type=float, default=1.0,
                    help="factor on the timeouts when wrapping")
    ap.add_argument("names", nargs="*")
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    work = tempfile.mkdtemp(prefix="cache-e2e-")
    wrap = Wrap(args.wrap, os.path.abspath(args.wrap_logs or os.path.join(work, "wrap")),
                args.time_scale)
    fake = Fake("chef", work)
    failed = passed = 0
    try:
        for t in TESTS:
            if args.names and t.__name__ not in args.names:
                continue
            fake.control("reset")
            tmp = tempfile.mkdtemp(prefix=t.__name__ + "-", dir=work)
            try:
                c = Ctx(build, fake, tmp, wrap, wrap.logdir(t.__name__) if wrap else None)
                t(c)
                fails = wrap.check(c.logdir, c.runs)
                if fails:
                    raise Failed("\n     ".join(fails))
                passed += 1
                print("ok   %s" % t.__name__)
            except (Failed, subprocess.TimeoutExpired, OSError) as e:
                failed += 1
                print("FAIL %s\n     %s\n     (%s)" % (t.__name__, e,
                                                      t.__doc__.split("\n")[0]))
    finally:
        fake.stop()
        if not failed:
            shutil.rmtree(work, ignore_errors=True)
    print("%d passed, %d failed" % (passed, failed))
    if wrap:
        print("wrapped: %d runs, %d logs checked" % (wrap.runs, wrap.logs))
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    sys.exit(main())
