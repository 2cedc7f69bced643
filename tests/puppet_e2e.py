#!/usr/bin/python3
"""The Puppet round-trip over the real enc: `puppet apply` with node_terminus=exec
classifies every node of fixtures/fleets/puppet.json through build/enc.

Cases are fixtures/puppet/cases/NAME.json in tests/puppet_roundtrip.py's format,
plus "instance": the id the certname must resolve to. For those, this runner
adds the EC2 facts the ENC must send (ec2_*, ec2_tags, ec2_tag_*), computed
here from the fleet file by an implementation of the fact rules independent
of the C one, so the C code is checked against a second reading of the
rules, not against itself.

Then three runs where Puppet must refuse the node: an unknown node with no
`unknown` section, EC2 refusing every request, and a broken config.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from e2e import ACCESS_KEY, SECRET_KEY, Fake  # noqa: E402
import fake_ec2  # noqa: E402

FLEET = os.path.join(ROOT, "fixtures", "fleets", "puppet.json")
CONFIG = os.path.join(ROOT, "fixtures", "configs", "puppet.yaml")
CASES = os.path.join(ROOT, "fixtures", "puppet", "cases")
PREFIX = "ec2_tag_"


def tag_variable(key):
    """Puppet variable name for a tag key: one '_' per character outside [a-z0-9]."""
    return PREFIX + "".join(c.lower() if c.isascii() and c.isalnum() else "_"
                            for c in key)


def facts(inst, region):
    """The parameters the ENC derives from one instance (DESIGN.md, enc)."""
    p = {}
    for name, value in [("ec2_instance_id", inst["id"]), ("ec2_region", region),
                        ("ec2_availability_zone", inst["az"]),
                        ("ec2_instance_type", inst["type"]),
                        ("ec2_image_id", inst["image"]), ("ec2_vpc_id", inst["vpc"]),
                        ("ec2_subnet_id", inst["subnet"]),
                        ("ec2_private_ip", inst["private_ip"]),
                        ("ec2_private_dns", inst["private_dns"]),
                        ("ec2_public_ip", inst["public_ip"])]:
        if value:  # absent facts stay undefined
            p[name] = value
    tags = dict(inst["tags"])
    p["ec2_security_groups"] = [name for _, name in inst["groups"]]
    roles = []
    for r in tags.get("roles", "").split(","):
        r = r.strip()
        if r and r not in roles:
            roles.append(r)
    p["ec2_roles"] = roles
    p["ec2_tags"] = tags
    # colliding keys: the first in byte order wins
    for key in sorted(tags, key=lambda k: k.encode(), reverse=True):
        p[tag_variable(key)] = tags[key]
    return p


def expand(case_path, instances, outdir):
    with open(case_path, encoding="utf-8") as f:
        case = json.load(f)
    inst_id = case.pop("instance", None)
    if inst_id is not None:
        region, inst = instances[inst_id]
        params = facts(inst, region)
        params.update(case.get("parameters", {}))
        case["parameters"] = params
    path = os.path.join(outdir, os.path.basename(case_path))
    with open(path, "w", encoding="utf-8") as f:
        json.dump(case, f, ensure_ascii=False, indent=1)
    return path


def harness(enc_cmd, case_paths):
    """Runs tests/puppet_roundtrip.py; returns (passed, failed)."""
    p = subprocess.run([sys.executable, os.path.join(HERE, "puppet_roundtrip.py"),
                        "--enc-cmd", enc_cmd] + case_paths,
                       stdout=subprocess.PIPE, text=True)
    sys.stdout.write(p.stdout)
    m = re.search(r"^(\d+) passed, (\d+) failed$", p.stdout, re.M)
    if not m:
        return 0, max(1, len(case_paths))
    return int(m.group(1)), int(m.group(2))


def write(path, text):
    with open(path, "w") as f:
        f.write(text)
    return path


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("cases", nargs="*", help="case names (default: all)")
    args = ap.parse_args()
    enc = os.path.abspath(os.path.join(args.build, "enc"))
    work = tempfile.mkdtemp(prefix="puppet-e2e-")
    fleet = fake_ec2.load_fleet(FLEET)
    instances = {i["id"]: (region, i) for region, insts in fleet["regions"].items()
                 for i in insts}
    names = sorted(n[:-5] for n in os.listdir(CASES) if n.endswith(".json"))
    if args.cases:
        names = [n for n in names if n in args.cases]
    expanded = [expand(os.path.join(CASES, n + ".json"), instances, work) for n in names]

    fake = Fake("puppet", work)
    env = ("env AWS_ACCESS_KEY_ID=%s AWS_SECRET_ACCESS_KEY=%s AWS_REGION=us-east-1 "
           "AWS_ENDPOINT_URL_EC2=%s AWS_EC2_METADATA_DISABLED=true "
           "ASAN_OPTIONS=detect_leaks=1 " % (ACCESS_KEY, SECRET_KEY, fake.url))
    passed = failed = 0
    try:
        p, f = harness(env + enc + " --config " + CONFIG, expanded)
        passed, failed = passed + p, failed + f
        if not args.cases:
            refusals = [
                ("no-unknown-section",
                 "an unknown node with no `unknown` section: enc exits 1, Puppet refuses the node",
                 "nobody.example.com", 1, None,
                 write(os.path.join(work, "plain.yaml"), "groups:\n  __base__: {}\n")),
                ("ec2-refusing",
                 "EC2 throttling every request: enc exits 3 after its retries, Puppet refuses the node",
                 "web06", 3, {"kind": "throttle", "count": -1}, CONFIG),
                ("broken-config",
                 "a broken config: enc exits 2 naming FILE:LINE:COLUMN, Puppet refuses the node",
                 "web06", 2, None,
                 write(os.path.join(work, "broken.yaml"), "groups:\n  web: [\n")),
            ]
            for name, why, cert, code, fault, config in refusals:
                fake.control("reset")
                if fault:
                    fake.control("fault", fault)
                case = write(os.path.join(work, "refuse-" + name + ".json"), json.dumps(
                    {"why": why, "certname": cert, "fail": True, "enc_exit": code}))
                p, f = harness(env + enc + " --config " + config, [case])
                passed, failed = passed + p, failed + f
    finally:
        fake.stop()
    print("puppet round-trip: %d passed, %d failed" % (passed, failed))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    sys.exit(main())
