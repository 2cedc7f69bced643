#!/usr/bin/python3
"""make demo: the fake EC2/IMDS on 127.0.0.1 with the sample fleet, and the
binaries finding instances in it the way the puppetmaster and a booting
instance would."""

import argparse
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e import Fake, base_env  # noqa: E402


def show(title, argv, env):
    print("\n$ " + " ".join(os.path.basename(a) if i == 0 else a
                           for i, a in enumerate(argv)) + "    # " + title)
    sys.stdout.flush()
    p = subprocess.run(argv, env=env)
    print("(exit %d)" % p.returncode)
    return p.returncode


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--build", default="build")
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    work = tempfile.mkdtemp(prefix="demo-")
    fake = Fake("basic", work)
    try:
        print("fake EC2 + IMDS listening on %s (fleet fixtures/fleets/basic.json)"
              % fake.url)
        env = base_env(work, fake)
        enc, dna = os.path.join(build, "enc"), os.path.join(build, "dna-gen")
        config = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                              "fixtures", "configs", "basic.yaml")
        rcs = [
            show("what the puppetmaster runs: classes, parameters, environment",
                 [enc, "--config", config, "i-0a1b2c3d4e5f60001"], env),
            show("a certname like ip-10-0-3-31.<domain>, with --explain on stderr",
                 [enc, "--config", config, "--explain", "ip-10-0-3-31.example.org"], env),
            show("a certname EC2 does not know: the config's unknown section",
                 [enc, "--config", config, "nosuch.example.com"], env),
            show("the instance as EC2 described it (tags with awkward values intact)",
                 [enc, "--describe", "web03.example.com"], env),
        ]
        fake.control("fault", {"kind": "throttle", "count": 2})
        rcs.append(show("EC2 throttles twice: retried with backoff (-v traces)",
                        [enc, "-v", "--config", config, "web01"], env))
        imds_env = dict(env)
        for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION"):
            imds_env.pop(k)
        rcs.append(show("on an instance: who am I (IMDSv2), with its role's credentials",
                        [dna, "--describe"], imds_env))
        rcs.append(show("on an instance: its chef-solo dna.json (run_list, attributes, "
                        "ec2 facts, peers by role)", [dna, "--config", config], imds_env))
        rcs.append(show("the Chef role of group webapps (__base__ merged in)",
                        [dna, "--config", config, "--role", "webapps"], env))
        cached = os.path.join(work, "config-cache.yaml")
        with open(config) as f, open(cached, "w") as g:
            g.write(f.read() + "cache: {path: %s}\n" % os.path.join(work, "fleet.db"))
        rcs.append(show("cron: the whole fleet into the cache (one summary line)",
                        [enc, "--config", cached, "--refresh"], env))
        fake.control("fault", {"kind": "throttle", "count": -1})
        rcs.append(show("EC2 now refuses everything: the cache answers, no request",
                        [enc, "--config", cached, "web02"], env))
        fake.control("reset")
        expect_fail = show("a terminated instance is not part of the fleet",
                           [enc, "--describe", "old01"], env)
        stats = fake.control("stats")
        print("\nfake EC2 saw %d signed requests, all verified by botocore "
              "(%d rejected)" % (stats["ec2_requests"], stats["auth_failures"]))
        ok = all(rc == 0 for rc in rcs) and expect_fail == 1
        print("demo " + ("done" if ok else "FAILED"))
        return 0 if ok else 1
    finally:
        fake.stop()


if __name__ == "__main__":
    sys.exit(main())
