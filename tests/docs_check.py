#!/usr/bin/python3
"""docs_check: the documentation says what the programs do.

Checks, each printed as "ok NAME" or "FAIL NAME: why":

  help-*       enc --help and dna-gen --help fit on one screen (24 lines of
               at most 80 columns); their long and short options are exactly
               those of the man page's OPTIONS list, and the binary accepts
               every option the man page lists
  readme-*     the fenced blocks of README's "Operations examples": the IAM
               documents parse and grant exactly the actions named here, the
               shell scripts pass bash -n, the systemd units pass
               systemd-analyze verify (else a configparser reading of their
               keys), the crontab line has 5 time fields and the installed
               enc path, puppet.conf says node_terminus = exec; the wrapper
               and the cron command are run against the fake EC2
  example-*    enc/config.yaml.example loads and classifies a fleet on the
               fake EC2 as an independent reading of its groups says; the
               worked example of enc.yaml(5) gives what the page claims
  install-*    make install DESTDIR=... writes exactly the expected files
               with their modes, make uninstall leaves no file

Usage: tests/docs_check.py [--build DIR] [NAME-PREFIX...]
"""

import argparse
import configparser
import filecmp
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import time

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e  # noqa: E402  (the fake EC2 runner and chef-solo's rules)

ROOT = e2e.ROOT
PREFIX = "/usr/local"
ENC_BIN = PREFIX + "/bin/enc"
DNA_BIN = PREFIX + "/bin/dna-gen"
CONFIG_PATH = "/etc/ec2-classify/config.yaml"
EXAMPLE = os.path.join(ROOT, "enc", "config.yaml.example")
MAN = {"enc": os.path.join(ROOT, "enc", "enc.1"),
       "dna-gen": os.path.join(ROOT, "dna-gen", "dna-gen.1")}
MAN5 = os.path.join(ROOT, "enc", "enc.yaml.5")
SCREEN_LINES, SCREEN_COLUMNS = 24, 80

# README "Operations examples": fence name -> the actions its policy grants.
IAM_ACTIONS = {
    "iam-single-account.json": {"ec2:DescribeInstances"},
    "iam-source-account.json": {"ec2:DescribeInstances", "sts:AssumeRole"},
    "iam-target-trust.json": {"sts:AssumeRole"},
}
README_BLOCKS = ["puppet.conf", "enc-wrapper", "/etc/cron.d/ec2-classify",
                 "ec2-classify-refresh.service", "ec2-classify-refresh.timer",
                 "user-data", "aws-config"] + sorted(IAM_ACTIONS)

# What make install writes under DESTDIR+PREFIX, and the mode of each file.
INSTALLED = {
    "bin/enc": 0o755, "bin/dna-gen": 0o755,
    "share/man/man1/enc.1": 0o644, "share/man/man1/dna-gen.1": 0o644,
    "share/man/man5/enc.yaml.5": 0o644,
    "share/doc/ec2-classify/config.yaml.example": 0o644,
    "share/doc/ec2-classify/README.md": 0o644,
}
INSTALL_SOURCES = {
    "bin/enc": "{build}/enc", "bin/dna-gen": "{build}/dna-gen",
    "share/man/man1/enc.1": "enc/enc.1", "share/man/man1/dna-gen.1": "dna-gen/dna-gen.1",
    "share/man/man5/enc.yaml.5": "enc/enc.yaml.5",
    "share/doc/ec2-classify/config.yaml.example": "enc/config.yaml.example",
    "share/doc/ec2-classify/README.md": "README.md",
}


def run(argv, env=None, stdin=None, timeout=60, cwd=None):
    p = subprocess.run(argv, env=env, input=stdin, capture_output=True,
                       timeout=timeout, cwd=cwd)
    return p.returncode, p.stdout.decode("utf-8", "replace"), \
        p.stderr.decode("utf-8", "replace")


# --------------------------------------------------------------- man pages

def man_section(path, name):
    """The mdoc source lines of section NAME (.Sh NAME up to the next .Sh)."""
    with open(path) as f:
        lines = f.read().split("\n")
    out, inside = [], False
    for line in lines:
        if line.startswith(".Sh "):
            inside = line[4:].strip() == name
            continue
        if inside:
            out.append(line)
    return out


def man_options(path):
    """{"--config": takes_arg, "-c": takes_arg, ...} from the OPTIONS list."""
    opts = {}
    for line in man_section(path, "OPTIONS"):
        if not line.startswith(".It Fl "):
            continue
        toks = line[4:].split()
        for i, t in enumerate(toks):
            if t != "Fl" or i + 1 >= len(toks):
                continue
            name = toks[i + 1]
            arg = i + 2 < len(toks) and toks[i + 2] == "Ar"
            if name.startswith("\\-"):
                opts["--" + name[2:]] = arg
            elif name.startswith("-"):
                opts["--" + name[1:]] = arg
            else:
                opts["-" + name] = arg
    return opts


def help_options(text):
    longs = set(re.findall(r"(?<![\w-])(--[a-z][a-z-]*)", text))
    shorts = set(re.findall(r"^\s+(-[A-Za-z]),", text, re.M))
    return longs | shorts


def check_help(build, prog):
    fails = []
    rc, out, err = run([os.path.join(build, prog), "--help"])
    if rc != 0 or err:
        return ["%s --help: exit %d, stderr %r" % (prog, rc, err)]
    lines = out.split("\n")[:-1] if out.endswith("\n") else out.split("\n")
    if len(lines) > SCREEN_LINES:
        fails.append("%s --help is %d lines, more than %d" % (prog, len(lines),
                                                            SCREEN_LINES))
    for n, line in enumerate(lines, 1):
        if len(line.expandtabs()) > SCREEN_COLUMNS:
            fails.append("%s --help line %d is %d columns, more than %d: %r" %
                         (prog, n, len(line.expandtabs()), SCREEN_COLUMNS, line))
    in_help = help_options(out)
    in_man = man_options(MAN[prog])
    if not in_man:
        return fails + ["%s: no option found in the man page's OPTIONS" % prog]
    for o in sorted(in_help - set(in_man)):
        fails.append("%s --help has %s, %s(1) OPTIONS does not" % (prog, o, prog))
    for o in sorted(set(in_man) - in_help):
        fails.append("%s(1) OPTIONS has %s, %s --help does not" % (prog, o, prog))
    # The binary takes each option the page lists (the help then exits 0);
    # an unknown option is a usage error (exit 2).
    for o, arg in sorted(in_man.items()):
        if o in ("--help", "-h"):
            continue
        argv = [os.path.join(build, prog), o] + (["5"] if arg else []) + ["--help"]
        rc, out2, err = run(argv)
        if o in ("--version", "-V"):    # prints the version at once
            if rc != 0 or not re.fullmatch(re.escape(prog) + r" [0-9][^\s]*\n", out2):
                fails.append("%s %s: exit %d, %r" % (prog, o, rc, out2))
        elif rc != 0 or out2 != out:
            fails.append("%s %s: exit %d (%s), not the help" %
                         (prog, " ".join(argv[1:]), rc,
                          err.strip().replace("\n", " | ")))
    rc, _, _ = run([os.path.join(build, prog), "--no-such-option", "--help"])
    if rc != 2:
        fails.append("%s --no-such-option: exit %d, want 2" % (prog, rc))
    return fails


# ------------------------------------------------------------------ README

def readme_blocks():
    """{name: text} of the fenced blocks of "## Operations examples"."""
    with open(os.path.join(ROOT, "README.md")) as f:
        text = f.read()
    m = re.search(r"^## Operations examples\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    if not m:
        raise AssertionError('README.md has no "## Operations examples" section')
    blocks = {}
    for fm in re.finditer(r"^```(\S+)[ \t]+(\S+)\n(.*?)^```$", m.group(1),
                          re.M | re.S):
        name = fm.group(2)
        if name in blocks:
            raise AssertionError("README block %s appears twice" % name)
        blocks[name] = fm.group(3)
    return blocks


def ini(text, name):
    cp = configparser.ConfigParser(interpolation=None, strict=True,
                                   comment_prefixes=("#", ";"))
    cp.optionxform = str
    cp.read_string(text, source=name)
    return cp


def policy_actions(doc, name):
    """The set of actions an IAM policy document allows, checked for shape."""
    fails, actions = [], set()
    if doc.get("Version") != "2012-10-17":
        fails.append("%s: Version %r, want 2012-10-17" % (name, doc.get("Version")))
    stmts = doc.get("Statement")
    if not isinstance(stmts, list) or not stmts:
        return actions, fails + ["%s: Statement is not a non-empty list" % name]
    for s in stmts:
        if s.get("Effect") != "Allow":
            fails.append("%s: Effect %r" % (name, s.get("Effect")))
        a = s.get("Action")
        for x in ([a] if isinstance(a, str) else a or []):
            if "*" in x:
                fails.append("%s: wildcard action %s" % (name, x))
            actions.add(x)
    return actions, fails


def check_iam(blocks):
    fails, docs = [], {}
    for name, want in sorted(IAM_ACTIONS.items()):
        try:
            docs[name] = json.loads(blocks[name])
        except ValueError as e:
            fails.append("%s: not JSON: %s" % (name, e))
            continue
        got, f = policy_actions(docs[name], name)
        fails += f
        if got != want:
            fails.append("%s grants %s, want exactly %s" % (name, sorted(got), sorted(want)))
    if fails:
        return fails
    for name in ("iam-single-account.json", "iam-source-account.json"):
        for s in docs[name]["Statement"]:
            if s["Action"] == "ec2:DescribeInstances" and s.get("Resource") != "*":
                fails.append("%s: DescribeInstances takes no resource ARN, "
                             "Resource must be \"*\"" % name)
    # The role the source may assume is the aws-config profile's role_arn,
    # and the trust names the source's external id.
    cp = ini(blocks["aws-config"], "aws-config")
    roles = {s: cp[s]["role_arn"] for s in cp.sections() if "role_arn" in cp[s]}
    if not roles:
        return fails + ["aws-config: no profile has role_arn"]
    arn_re = r"arn:aws:iam::([0-9]{12}):role/[\w+=,.@-]+"
    assume = [s for s in docs["iam-source-account.json"]["Statement"]
              if s["Action"] == "sts:AssumeRole"]
    resources = {s.get("Resource") for s in assume}
    trust = docs["iam-target-trust.json"]["Statement"][0]
    principal = trust.get("Principal", {}).get("AWS", "")
    for section, arn in sorted(roles.items()):
        p = cp[section]
        m = re.fullmatch(arn_re, arn)
        if not m:
            fails.append("aws-config [%s]: role_arn %r is not a role ARN" % (section, arn))
            continue
        if arn not in resources:
            fails.append("iam-source-account.json: sts:AssumeRole is not on %s" % arn)
        if not (p.get("source_profile") in [s.split()[-1] for s in cp.sections()]
                or p.get("credential_source") in ("Ec2InstanceMetadata", "Environment")):
            fails.append("aws-config [%s]: role_arn without source_profile or a "
                         "valid credential_source" % section)
        pm = re.fullmatch(arn_re, principal)
        if not pm or pm.group(1) == m.group(1):
            fails.append("iam-target-trust.json: Principal %r is not a role of "
                         "another account than %s" % (principal, arn))
        ext = trust.get("Condition", {}).get("StringEquals", {}).get("sts:ExternalId")
        if "external_id" in p and ext != p["external_id"]:
            fails.append("iam-target-trust.json: sts:ExternalId %r, the profile "
                         "sends %r" % (ext, p["external_id"]))
    return fails


def bash_n(text, name):
    rc, _, err = run(["bash", "-n"], stdin=text.encode())
    return [] if rc == 0 else ["%s: bash -n: %s" % (name, err.strip())]


CRON_FIELD = r"(\*|[0-9]+(-[0-9]+)?)(/[0-9]+)?(,(\*|[0-9]+(-[0-9]+)?)(/[0-9]+)?)*"
CRON_RANGES = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 7)]


def cron_fields(line):
    """(time fields, user, command) of an /etc/cron.d line, or raises."""
    parts = line.split(None, 6)
    if len(parts) != 7:
        raise ValueError("want 5 time fields, a user and a command: %r" % line)
    for field, (lo, hi) in zip(parts[:5], CRON_RANGES):
        if not re.fullmatch(CRON_FIELD, field):
            raise ValueError("time field %r is not cron syntax" % field)
        for n in re.findall(r"[0-9]+", re.sub(r"/[0-9]+", "", field)):
            if not lo <= int(n) <= hi:
                raise ValueError("time field %r out of %d-%d" % (field, lo, hi))
    return parts[:5], parts[5], parts[6]


def check_cron(blocks, fake, build, tmp):
    text = blocks["/etc/cron.d/ec2-classify"]
    lines = [l for l in text.split("\n") if l.strip() and not l.startswith("#")]
    if len(lines) != 1:
        return ["crontab: %d entries, want 1" % len(lines)]
    try:
        _, user, command = cron_fields(lines[0])
    except ValueError as e:
        return ["crontab: %s" % e]
    fails = []
    if not re.match(r"[a-z_][a-z0-9_-]*$", user):
        fails.append("crontab: %r is not a user name (cron.d has a user field)" % user)
    if "%" in command:
        fails.append("crontab: cron turns %% into a newline: %r" % command)
    if not re.search(r"(^|[\s(=])" + re.escape(ENC_BIN) + r"\s", command) or \
            "--refresh" not in command:
        fails.append("crontab: the command does not run %s --refresh" % ENC_BIN)
    fails += bash_n(command, "crontab command")
    if fails:
        return fails
    # As cron would run it: quiet when the refresh works, one line when not.
    cfg = example_copy(tmp)
    env = closed_env(tmp, fake)
    ok_cmd = command.replace(ENC_BIN, os.path.join(build, "enc")).replace(CONFIG_PATH, cfg)
    rc, out, err = run(["sh", "-c", ok_cmd], env=env)
    if rc != 0 or out or err:
        fails.append("crontab command on a working EC2: exit %d, output %r%r, "
                     "want none" % (rc, out, err))
    bad_cmd = command.replace(ENC_BIN, os.path.join(build, "enc")).replace(
        CONFIG_PATH, os.path.join(tmp, "missing.yaml"))
    rc, out, err = run(["sh", "-c", bad_cmd], env=env)
    if out.count("\n") != 1 or not out.startswith("enc: "):
        fails.append("crontab command with a missing config printed %r, want "
                     "enc's one error line (for cron to mail)" % out)
    return fails


def check_systemd(blocks, build):
    fails = []
    svc_name, tmr_name = "ec2-classify-refresh.service", "ec2-classify-refresh.timer"
    try:
        svc = ini(blocks[svc_name], svc_name)
        tmr = ini(blocks[tmr_name], tmr_name)
    except configparser.Error as e:
        return ["systemd units do not parse: %s" % e]
    want = {svc_name: {"Unit": ["Description"], "Service": ["Type", "ExecStart"]},
            tmr_name: {"Unit": ["Description"], "Timer": [], "Install": ["WantedBy"]}}
    for name, cp in ((svc_name, svc), (tmr_name, tmr)):
        for section, keys in want[name].items():
            if not cp.has_section(section):
                fails.append("%s: no [%s]" % (name, section))
                continue
            for k in keys:
                if k not in cp[section]:
                    fails.append("%s: [%s] has no %s" % (name, section, k))
    if fails:
        return fails
    if svc["Service"]["Type"] != "oneshot":
        fails.append("%s: Type=%s, want oneshot" % (svc_name, svc["Service"]["Type"]))
    exec_start = svc["Service"]["ExecStart"].split()
    if exec_start[0] != ENC_BIN or "--refresh" not in exec_start:
        fails.append("%s: ExecStart does not run %s --refresh" % (svc_name, ENC_BIN))
    if not ({"OnCalendar", "OnUnitActiveSec"} & set(tmr["Timer"])):
        fails.append("%s: [Timer] has neither OnCalendar nor OnUnitActiveSec" % tmr_name)
    if tmr["Install"]["WantedBy"] != "timers.target":
        fails.append("%s: WantedBy=%s" % (tmr_name, tmr["Install"]["WantedBy"]))
    if fails or not shutil.which("systemd-analyze"):
        return fails
    # systemd-analyze verify checks ExecStart's file: point it at the build's.
    installed_enc = os.path.join(build, "enc")
    with tempfile.TemporaryDirectory(prefix="docs-systemd-") as d:
        with open(os.path.join(d, svc_name), "w") as f:
            f.write(blocks[svc_name].replace(ENC_BIN, installed_enc))
        with open(os.path.join(d, tmr_name), "w") as f:
            f.write(blocks[tmr_name])
        rc, out, err = run(["systemd-analyze", "verify", os.path.join(d, svc_name),
                            os.path.join(d, tmr_name)])
        err = "\n".join(l for l in err.split("\n")
                        if l and "mandoc.db" not in l)
        if rc != 0 or err:
            fails.append("systemd-analyze verify: exit %d: %s" % (rc, err.strip()))
    return fails


def check_puppet_conf(blocks):
    try:
        cp = ini(blocks["puppet.conf"], "puppet.conf")
    except configparser.Error as e:
        return ["puppet.conf does not parse as ini: %s" % e]
    for section in ("server", "master", "main"):
        if cp.has_section(section) and cp[section].get("node_terminus") == "exec":
            ext = cp[section].get("external_nodes", "")
            if ext != PREFIX + "/bin/enc-wrapper":
                return ["puppet.conf: external_nodes = %r, want the wrapper %s/bin/"
                        "enc-wrapper" % (ext, PREFIX)]
            return []
    return ["puppet.conf: no [server], [master] or [main] with node_terminus = exec"]


def check_wrapper(blocks, fake, build, tmp):
    text = blocks["enc-wrapper"]
    fails = bash_n(text, "enc-wrapper")
    rc, _, err = run(["sh", "-n"], stdin=text.encode())
    if rc != 0:
        fails.append("enc-wrapper: sh -n: %s" % err.strip())
    if not text.startswith("#!/bin/sh\n"):
        fails.append("enc-wrapper: not a #!/bin/sh script")
    if not re.search(r"^exec " + re.escape(ENC_BIN) + r" .*\"\$1\"$", text, re.M):
        fails.append('enc-wrapper: no line "exec %s ... "$1""' % ENC_BIN)
    if fails:
        return fails
    # Run it as Puppet does: certname only, no HOME; it prints what enc does.
    cfg = example_copy(tmp)
    path = os.path.join(tmp, "enc-wrapper")
    with open(path, "w") as f:
        f.write(text.replace(ENC_BIN, os.path.join(build, "enc")).replace(CONFIG_PATH, cfg))
    os.chmod(path, 0o755)
    env = closed_env(tmp, fake)
    del env["HOME"]
    rc, out, err = run([path, "web-1"], env=env)
    rc2, direct, _ = run([os.path.join(build, "enc"), "-c", cfg, "web-1"],
                         env=closed_env(tmp, fake))
    if rc != 0 or rc2 != 0 or out != direct or not out.startswith("---\n"):
        fails.append("enc-wrapper web-1: exit %d, %r%r; enc itself: exit %d" %
                     (rc, out[:200], err, rc2))
    return fails


def check_user_data(blocks):
    text = blocks["user-data"]
    fails = bash_n(text, "user-data")
    if not text.startswith("#!/bin/bash\n") or "set -euo pipefail" not in text:
        fails.append("user-data: not a bash script with set -euo pipefail")
    joined = re.sub(r"\\\n\s*", " ", re.sub(r"&&\n\s*", "&& ", text))
    m = re.search(r"^(\S*dna-gen) [^\n]*-o (\S+) && (\S*chef-solo) [^\n]*-j (\S+)$",
                  joined, re.M)
    if not m:
        fails.append("user-data: no line 'dna-gen ... -o FILE && chef-solo ... -j FILE'")
    elif m.group(2) != m.group(4):
        fails.append("user-data: dna-gen writes %s, chef-solo reads %s" %
                     (m.group(2), m.group(4)))
    elif m.group(1) != DNA_BIN:
        fails.append("user-data: runs %s, make install puts it at %s" % (m.group(1), DNA_BIN))
    # Nothing from the network but Debian packages.
    for word in ("curl", "wget", "pip", "gem", "git", "aws", "omnitruck", "knife"):
        if re.search(r"(^|[\s;|&(])%s\s" % word, text, re.M):
            fails.append("user-data: downloads with %s" % word)
    return fails


# ------------------------------------------------- the fake EC2 and configs

INSTANCE_PREFIX = "i-0d0c0000000000"
# The fleet the example config is checked on: what its groups, tags and
# aws.filters select, and what they must leave out.
FLEET = {
    "comment": "tests/docs_check.py: enc/config.yaml.example's fleet",
    "imds": {"instance_id": INSTANCE_PREFIX + "001", "region": "us-east-1",
             "availability_zone": "us-east-1a"},
    "regions": {
        "us-east-1": [
            {"id": INSTANCE_PREFIX + "001", "private_ip": "10.20.0.11",
             "groups": [["sg-0d0c0000000000001", "web"]],
             "tags": [["Name", "web-1"], ["managed-by", "ec2-classify"],
                      ["environment", "production"], ["roles", "web"]]},
            {"id": INSTANCE_PREFIX + "002", "private_ip": "10.20.0.12",
             "groups": [["sg-0d0c0000000000002", "default"]],
             "tags": [["Name", "api-1"], ["managed-by", "ec2-classify"],
                      ["environment", "staging"], ["roles", "api, worker"]]},
            {"id": INSTANCE_PREFIX + "003", "private_ip": "10.20.0.13", "az": "us-east-1c",
             "groups": [["sg-0d0c0000000000003", "mongo-sg"]],
             "tags": [["Name", "mongo-1"], ["managed-by", "ec2-classify"],
                      ["roles", "mongo"]]},
            {"id": INSTANCE_PREFIX + "004", "private_ip": "10.20.0.14",
             "groups": [["sg-0d0c0000000000004", "ci"]],
             "tags": [["Name", "ci-1"], ["managed-by", "ec2-classify"]]},
            {"id": INSTANCE_PREFIX + "005", "private_ip": "10.20.0.15",
             "groups": [["sg-0d0c0000000000001", "web"]],
             "tags": [["Name", "legacy-1"], ["roles", "web"],
                      ["environment", "production"]]},
            {"id": INSTANCE_PREFIX + "006", "state": "stopped", "private_ip": "10.20.0.16",
             "groups": [["sg-0d0c0000000000001", "web"]],
             "tags": [["Name", "web-2"], ["managed-by", "ec2-classify"],
                      ["environment", "production"], ["roles", "web"]]},
            {"id": INSTANCE_PREFIX + "007", "private_ip": "10.20.0.17",
             "groups": [["sg-0d0c0000000000001", "web"]],
             "tags": [["Name", "mon-1"], ["managed-by", "puppet"],
                      ["roles", "monitoring"]]},
        ],
        "eu-west-1": [],
    },
}
# certname -> instance id (None: outside aws.filters), one per lookup strategy
CERTNAMES = {
    "web-1": INSTANCE_PREFIX + "001",                       # tag:Name
    INSTANCE_PREFIX + "002": INSTANCE_PREFIX + "002",       # instance-id
    "10.20.0.13": INSTANCE_PREFIX + "003",                  # private-ip
    "ip-10-20-0-14.ec2.internal": INSTANCE_PREFIX + "004",  # private-dns-name
    "legacy-1": None,                                       # no managed-by tag
}


def closed_env(tmp, fake):
    env = e2e.base_env(tmp, fake)
    env["AWS_EC2_METADATA_DISABLED"] = "true"
    return env


def example_copy(tmp):
    """The example config with its cache in tmp (never /var/cache)."""
    path = os.path.join(tmp, "config.yaml")
    if not os.path.exists(path):
        with open(EXAMPLE) as f:
            text = f.read()
        old = "path: /var/cache/ec2-classify/fleet.db"
        if text.count(old) != 1:
            raise AssertionError("config.yaml.example: no single '%s'" % old)
        with open(path, "w") as f:
            f.write(text.replace(old, "path: " + os.path.join(tmp, "fleet.db")))
    return path


def run_list_merge(items):
    out, seen = [], set()
    for i in items:
        if e2e.run_list_key(i) not in seen:
            seen.add(e2e.run_list_key(i))
            out.append(i)
    return out


def oracle(cfg, inst):
    """The classification an instance should get, read from the config
    with the rules of enc.yaml(5), independently of lib/classify.c."""
    groups = cfg["groups"]
    tagcfg = cfg.get("tags", {})
    tags = dict(inst.get("tags", []))
    roles = []
    for r in tags.get(tagcfg.get("roles", "roles"), "").split(","):
        if r.strip() and r.strip() not in roles:
            roles.append(r.strip())
    names = {g[1] for g in inst.get("groups", [])} | set(roles)
    if tagcfg.get("group", "group") in tags:
        names.add(tags[tagcfg.get("group", "group")])
    applied = (["__base__"] if "__base__" in groups else []) + \
        [g for g in groups if g != "__base__" and g in names]
    r = {"classes": {}, "parameters": {}, "attributes": {}, "environment": None,
         "run_list": [], "post": [], "roles": roles, "applied": applied}
    for g in applied:
        body = groups[g] or {}
        r["classes"].update(body.get("classes", {}))
        r["parameters"].update(body.get("parameters", {}))
        r["attributes"].update(body.get("default_attributes", {}))
        r["run_list"] += body.get("run_list", [])
        r["post"] += body.get("post_run_list", [])
        r["environment"] = body.get("environment", r["environment"])
    env_tag = tagcfg.get("environment", "environment")
    r["environment"] = tags.get(env_tag) or r["environment"] or "production"
    r["run_list"] = run_list_merge(r["run_list"] + r["post"])
    return r


def check_enc_doc(doc, want, inst, where):
    fails = []
    if set(doc) != {"classes", "parameters", "environment"}:
        return ["%s: keys %s" % (where, sorted(doc))]
    if doc["classes"] != want["classes"]:
        fails.append("%s: classes %r, want %r" % (where, doc["classes"], want["classes"]))
    if doc["environment"] != want["environment"]:
        fails.append("%s: environment %r, want %r" % (where, doc["environment"],
                                                      want["environment"]))
    ours = {k: v for k, v in doc["parameters"].items() if not k.startswith("ec2_")}
    if ours != want["parameters"]:
        fails.append("%s: group parameters %r, want %r" % (where, ours, want["parameters"]))
    if inst is not None:
        p = doc["parameters"]
        if p.get("ec2_instance_id") != inst["id"] or \
                p.get("ec2_roles", []) != want["roles"] or \
                p.get("ec2_security_groups") != [g[1] for g in inst["groups"]] or \
                p.get("ec2_tags") != dict(inst["tags"]):
            fails.append("%s: EC2 facts %r" % (where, p))
    return fails


def env_of(cfg, inst):
    return oracle(cfg, inst)["environment"]


def in_scope(cfg, inst):
    tags = dict(inst.get("tags", []))
    for name, values in cfg.get("aws", {}).get("filters", {}).items():
        if not name.startswith("tag:") or tags.get(name[4:]) not in values:
            return False
    return inst.get("state", "running") not in ("terminated", "shutting-down")


def check_example(build, fake, tmp):
    """enc/config.yaml.example itself (with --live) and with its cache."""
    with open(EXAMPLE) as f:
        cfg = yaml.safe_load(f)
    fails = []
    byid = {i["id"]: i for i in FLEET["regions"]["us-east-1"]}
    env = closed_env(tmp, fake)
    enc = os.path.join(build, "enc")
    dna = os.path.join(build, "dna-gen")
    for certname, iid in CERTNAMES.items():
        rc, out, err = run([enc, "-c", EXAMPLE, "--live", certname], env=env)
        if rc != 0:
            fails.append("enc -c config.yaml.example %s: exit %d: %s" % (certname, rc, err))
            continue
        doc = yaml.safe_load(out)
        if iid is None:
            u = cfg["unknown"]
            want = {"classes": u.get("classes", {}), "parameters": u.get("parameters", {}),
                    "environment": u.get("environment", "production")}
            fails += check_enc_doc(doc, want, None, "enc %s (unknown)" % certname)
        else:
            fails += check_enc_doc(doc, oracle(cfg, byid[iid]), byid[iid],
                                   "enc %s" % certname)
    # dna-gen: run list, attributes, environment, peers (running, in scope,
    # same environment, by role, sorted), chef-solo's rules.
    for certname in ("web-1", "api-1"):
        rc, out, err = run([dna, "-c", EXAMPLE, "--live", certname], env=env)
        if rc != 0:
            fails.append("dna-gen %s: exit %d: %s" % (certname, rc, err))
            continue
        doc = json.loads(out)
        inst = next(i for i in byid.values() if dict(i["tags"]).get("Name") == certname)
        want = oracle(cfg, inst)
        fails += e2e.check_chef(doc, "dna-gen %s" % certname)
        attrs = {k: v for k, v in doc.items() if k not in ("run_list", "ec2")}
        if doc["run_list"] != want["run_list"] or attrs != want["attributes"] or \
                doc["ec2"]["environment"] != want["environment"]:
            fails.append("dna-gen %s: run_list %r, attributes %r, environment %r; "
                         "want %r, %r, %r" % (certname, doc["run_list"], attrs,
                                              doc["ec2"]["environment"], want["run_list"],
                                              want["attributes"], want["environment"]))
        peers = {}
        for i in sorted(byid.values(), key=lambda i: (dict(i["tags"]).get("Name", i["id"]),
                                                      i["id"])):
            if i.get("state", "running") != "running" or not in_scope(cfg, i) or \
                    env_of(cfg, i) != want["environment"]:
                continue
            for role in oracle(cfg, i)["roles"]:
                peers.setdefault(role, []).append(i["id"])
        got = {r: [m["instance_id"] for m in ms]
               for r, ms in doc["ec2"].get("peers", {}).items()}
        if got != peers:
            fails.append("dna-gen %s: peers %r, want %r" % (certname, got, peers))
    # Every group's Chef role is what an instance of that group alone gets.
    for g in cfg["groups"]:
        if g == "__base__":
            continue
        rc, out, err = run([dna, "-c", EXAMPLE, "--role", g], env=env)
        want = oracle(cfg, {"groups": [["sg-0", g]], "tags": []})
        doc = json.loads(out) if rc == 0 else {}
        fails += e2e.check_chef(doc, "dna-gen --role %s" % g) if doc else []
        if rc != 0 or doc.get("run_list") != want["run_list"] or \
                doc.get("default_attributes") != want["attributes"] or \
                doc.get("description") != (cfg["groups"][g] or {}).get("description", ""):
            fails.append("dna-gen --role %s: exit %d %s%r" % (g, rc, err, doc))
    rc, out, err = run([enc, "-c", EXAMPLE, "--live", "--describe", "mongo-1"], env=env)
    if rc != 0 or json.loads(out).get("instance_id") != INSTANCE_PREFIX + "003":
        fails.append("enc --describe mongo-1: exit %d %s%s" % (rc, err, out[:200]))
    # The cache section: a refresh into the test's directory, then a lookup
    # served by it (the fake counts no request).
    copy = example_copy(tmp)
    rc, out, err = run([enc, "-c", copy, "--refresh"], env=env)
    if rc != 0 or out or not re.fullmatch(r"enc: refreshed .*\n", err):
        fails.append("enc --refresh with the example's cache: exit %d %r" % (rc, err))
    else:
        mode = stat.S_IMODE(os.stat(os.path.join(tmp, "fleet.db")).st_mode)
        if mode != int(cfg["cache"]["mode"], 8):
            fails.append("cache file mode %o, cache.mode says %s" % (mode, cfg["cache"]["mode"]))
        before = fake.control("stats")
        rc, out, err = run([enc, "-c", copy, "web-1"], env=env)
        after = fake.control("stats")
        if rc != 0 or before != after:
            fails.append("enc web-1 from the fresh cache: exit %d %s; requests before "
                         "%r, after %r" % (rc, err, before, after))
    return fails


def check_man5_example(build, fake, tmp):
    """enc.yaml(5) EXAMPLES: the config loads and gives what the text says."""
    lines = man_section(MAN5, "EXAMPLES")
    start = lines.index(".Bd -literal -offset indent")
    text = "\n".join(lines[start + 1:lines.index(".Ed", start)]) + "\n"
    path = os.path.join(tmp, "man5-example.yaml")
    with open(path, "w") as f:
        f.write(text)
    rc, out, err = run([os.path.join(build, "enc"), "-c", path, "--live", "mon-1"],
                       env=closed_env(tmp, fake))
    if rc != 0:
        return ["enc.yaml(5) example: enc mon-1: exit %d: %s" % (rc, err)]
    doc = yaml.safe_load(out)
    said = {"classes": {"profile::base": {}, "profile::nginx": {"workers": 8},
                        "collectd": {}},
            "parameters": {"app_port": 8080}, "environment": "production",
            "roles": ["monitoring"]}
    inst = FLEET["regions"]["us-east-1"][6]
    fails = check_enc_doc(doc, said, inst, "enc.yaml(5) example, as its text says")
    fails += check_enc_doc(doc, oracle(yaml.safe_load(text), inst), inst,
                           "enc.yaml(5) example, by the rules")
    return fails


# ----------------------------------------------------------------- install

def tree(root):
    out = {}
    for d, _, files in os.walk(root):
        for f in files:
            p = os.path.join(d, f)
            out[os.path.relpath(p, root)] = stat.S_IMODE(os.lstat(p).st_mode)
    return out


def check_install(build, tmp, prefix):
    dest = os.path.join(tmp, "destdir" + prefix.replace("/", "-"))
    make = ["make", "-s", "-C", ROOT, "BUILD=" + build, "DESTDIR=" + dest,
            "PREFIX=" + prefix]
    rc, out, err = run(make + ["install"], timeout=600)
    if rc != 0:
        return ["make install PREFIX=%s: exit %d: %s" % (prefix, rc, err.strip())]
    fails = []
    got = tree(dest)
    want = {os.path.join(prefix.lstrip("/"), k): v for k, v in INSTALLED.items()}
    if got != want:
        fails.append("make install PREFIX=%s wrote %r, want %r" % (prefix, got, want))
    for rel, src in INSTALL_SOURCES.items():
        p = os.path.join(dest, prefix.lstrip("/"), rel)
        src = os.path.join(ROOT, src.format(build=build))
        if os.path.exists(p) and not filecmp.cmp(p, src, shallow=False):
            fails.append("installed %s differs from %s" % (rel, src))
    rc, out, err = run(make + ["uninstall"])
    left = tree(dest)
    if rc != 0 or left:
        fails.append("make uninstall PREFIX=%s: exit %d, left %r" % (prefix, rc, sorted(left)))
    if os.path.isdir(os.path.join(dest, prefix.lstrip("/"), "share/doc/ec2-classify")):
        fails.append("make uninstall left share/doc/ec2-classify/")
    return fails


# -------------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("names", nargs="*", help="run only checks starting so")
    args = ap.parse_args()
    build = os.path.abspath(os.path.join(ROOT, args.build))
    results = []

    def check(name, fn, *a):
        if args.names and not any(name.startswith(n) for n in args.names):
            return
        try:
            fails = fn(*a)
        except Exception as e:  # a crash in a check is a failure, not a skip
            fails = ["%s: %s" % (type(e).__name__, e)]
        results.append((name, fails))
        if fails:
            for f in fails:
                print("FAIL %s: %s" % (name, f))
        else:
            print("ok   %s" % name)

    tmp = tempfile.mkdtemp(prefix="docs-check-")
    fake = None
    try:
        for prog in ("enc", "dna-gen"):
            check("help-" + prog, check_help, build, prog)
        blocks = {}
        try:
            blocks = readme_blocks()
            missing = [b for b in README_BLOCKS if b not in blocks]
            extra = [b for b in blocks if b not in README_BLOCKS]
            check("readme-blocks", lambda: ["missing block %s" % b for b in missing] +
                  ["unchecked block %s" % b for b in extra])
        except AssertionError as e:
            check("readme-blocks", lambda: [str(e)])
        if all(b in blocks for b in README_BLOCKS):
            check("readme-iam", check_iam, blocks)
            check("readme-puppet-conf", check_puppet_conf, blocks)
            check("readme-user-data", check_user_data, blocks)
            check("readme-systemd", check_systemd, blocks, build)
        fleet_path = os.path.join(tmp, "fleet.json")
        with open(fleet_path, "w") as f:
            json.dump(FLEET, f)
        fake = e2e.Fake.__new__(e2e.Fake)
        fake_start(fake, fleet_path, tmp)
        if all(b in blocks for b in README_BLOCKS):
            check("readme-wrapper", check_wrapper, blocks, fake, build, tmp)
            check("readme-crontab", check_cron, blocks, fake, build,
                  tempfile.mkdtemp(dir=tmp))
        check("example-config", check_example, build, fake, tempfile.mkdtemp(dir=tmp))
        check("example-man5", check_man5_example, build, fake, tmp)
        check("install-usr-local", check_install, build, tmp, PREFIX)
        check("install-opt", check_install, build, tmp, "/opt/ec2-classify")
    finally:
        if fake is not None and getattr(fake, "proc", None) is not None:
            fake.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    failed = [n for n, f in results if f]
    print("docs_check: %d checks, %d failed%s" % (len(results), len(failed),
                                                  (": " + ", ".join(failed)) if failed else ""))
    return 1 if failed or not results else 0


def fake_start(fake, fleet_path, tmp):
    """e2e.Fake for a fleet file that is not under fixtures/fleets/."""
    fake.port_file = os.path.join(tmp, "port")
    fake.log = os.path.join(tmp, "fake.log")
    fake.proc = subprocess.Popen(
        [sys.executable, os.path.join(ROOT, "tests", "fake_ec2.py"),
         "--fleet", fleet_path, "--port-file", fake.port_file, "--log", fake.log,
         "--cred", e2e.ACCESS_KEY + ":" + e2e.SECRET_KEY],
        stdout=subprocess.DEVNULL)
    deadline = time.time() + 15
    while not os.path.exists(fake.port_file):
        if fake.proc.poll() is not None or time.time() > deadline:
            raise RuntimeError("fake_ec2.py did not start; see " + fake.log)
        time.sleep(0.05)
    with open(fake.port_file) as f:
        fake.port = int(f.read().strip())
    fake.url = "http://127.0.0.1:%d" % fake.port


if __name__ == "__main__":
    sys.exit(main())
