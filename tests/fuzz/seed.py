#!/usr/bin/python3
"""Writes the seed corpora fixtures/fuzz/NAME/seed-* from the other fixtures.

Run from the top of the checkout when fixtures change; review with git
status. Files not named seed-* (crash reproducers, minimized inputs) are
left alone.

  describe_xml, error_xml  fixtures/xml/*.xml without their first line (the
                           comment saying why the case exists)
  assume_role_xml          STS answers written here (the shapes of
                           test_awsxml.c's table)
  config                   fixtures/config/*, fixtures/configs/*,
                           fixtures/classify/*/config.yaml, and the
                           fixtures/hostile/configs.json files built from
                           parts, up to SEED_MAX bytes
  certname                 every certname argument of fixtures/e2e/*.json,
                           the certnames of fixtures/hostile/certnames.json,
                           plus the shapes lookup.c tells apart
  imds_creds               the credentials of fixtures/fleets/*.json as
                           tests/fake_ec2.py serves them, plus variants
"""

import glob
import hashlib
import json
import os

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
FIX = os.path.join(ROOT, "fixtures")
OUT = os.path.join(FIX, "fuzz")
SEED_MAX = 64 * 1024


def write(target, items):
    """items: [(name, bytes)]; identical contents are written once."""
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    for old in glob.glob(os.path.join(d, "seed-*")):
        os.remove(old)
    seen = set()
    for name, data in sorted(items):
        h = hashlib.sha1(data).hexdigest()
        if h in seen:
            continue
        seen.add(h)
        with open(os.path.join(d, "seed-" + name), "wb") as f:
            f.write(data)
    print("%s: %d seeds" % (target, len(seen)))


def read(path):
    with open(path, "rb") as f:
        return f.read()


def xml_seeds():
    out = []
    for p in sorted(glob.glob(os.path.join(FIX, "xml", "*.xml"))):
        body = read(p).split(b"\n", 1)
        out.append((os.path.basename(p), body[1] if len(body) > 1 else b""))
    return out


def config_seeds():
    out = []
    for p in sorted(glob.glob(os.path.join(FIX, "config", "*"))):
        out.append(("config-" + os.path.basename(p), read(p)))
    for p in sorted(glob.glob(os.path.join(FIX, "configs", "*"))):
        out.append(("configs-" + os.path.basename(p), read(p)))
    for p in sorted(glob.glob(os.path.join(FIX, "classify", "*",
                                           "config.yaml"))):
        case = os.path.basename(os.path.dirname(p))
        out.append(("classify-" + case + ".yaml", read(p)))
    base = read(os.path.join(FIX, "hostile", "config.yaml"))
    with open(os.path.join(FIX, "hostile", "configs.json")) as f:
        rows = json.load(f)["rows"]
    for r in rows:
        parts = r["make"].get("parts")
        if parts is None or sum(len(t) * n for t, n in parts) > SEED_MAX:
            continue
        data = b"".join((base if t == "{base}" else t.encode()) * n
                        for t, n in parts)
        if len(data) <= SEED_MAX:
            out.append(("hostile-" + r["name"] + ".yaml", data))
    return out


# Shapes lookup.c tells apart, beyond what the e2e cases use.
CERTNAMES = [
    "i-0123abcd", "i-0a1b2c3d4e5f60001", "i-0a1b2c3d4e5f60001.ec2.internal",
    "i-0A1B2C3D", "i-0123abc", "ip-10-0-0-1", "ip-10-0-0-1.ec2.internal",
    "ip-10-0-0-256.ec2.internal", "ip-010-0-0-1", "10.0.2.12", "10.0.2",
    "10.0.2.12.5", "255.255.255.255", "web01", "web01.example.com",
    "a.b.c.d.e.f.g.h.i", "_x", "x" * 255,
]


def certname_seeds():
    names = set(CERTNAMES)
    for p in glob.glob(os.path.join(FIX, "e2e", "*.json")):
        with open(p) as f:
            cmd = json.load(f).get("cmd", [])
        prev = ""
        for a in cmd[1:]:
            # an option's value (--config FILE) is not a certname
            if not a.startswith("-") and not prev.startswith("-") and \
                    "{" not in a:
                names.add(a)
            prev = a
    with open(os.path.join(FIX, "hostile", "certnames.json")) as f:
        for r in json.load(f)["rows"]:
            if "certname_hex" in r:
                names.add(bytes.fromhex(r["certname_hex"].replace(" ", ""))
                          .decode("latin-1"))
            elif "certname" in r and "{" not in r["certname"]:
                names.add(r["certname"])
    names.discard("")
    return [(hashlib.sha1(enc(n)).hexdigest()[:12], enc(n)) for n in names]


def enc(name):
    """A certname as bytes: hex rows were decoded as latin-1."""
    try:
        return name.encode("latin-1")
    except UnicodeEncodeError:
        return name.encode()


def creds_seeds():
    out = []
    for p in sorted(glob.glob(os.path.join(FIX, "fleets", "*.json"))):
        with open(p) as f:
            imds = json.load(f).get("imds")
        if not imds or "credentials" not in imds:
            continue
        doc = {"Code": "Success", "LastUpdated": "2024-01-01T00:00:00Z",
               "Type": "AWS-HMAC", **imds["credentials"]}
        name = os.path.basename(p).replace(".json", "")
        out.append((name + ".json", json.dumps(doc, indent=2).encode()))
    base = {"Code": "Success", "AccessKeyId": "ASIAFUZZ",
            "SecretAccessKey": "secret", "Token": "token",
            "Expiration": "2030-01-01T00:00:00Z"}
    variants = {
        "no-token": {k: v for k, v in base.items() if k != "Token"},
        "fraction": {**base, "Expiration": "2030-01-01T00:00:00.123456Z"},
        "utc-offset": {**base, "Expiration": "2030-01-01T00:00:00+00:00"},
        "other-offset": {**base, "Expiration": "2030-01-01T00:00:00+02:00"},
        "code-failure": {**base, "Code": "AssumeRoleUnauthorizedAccess"},
        "no-expiration": {k: v for k, v in base.items() if k != "Expiration"},
        "key-not-string": {**base, "AccessKeyId": 12},
        "epoch": {**base, "Expiration": "1970-01-01T00:00:00Z"},
    }
    for name, doc in variants.items():
        out.append((name + ".json", json.dumps(doc).encode()))
    out.append(("duplicate-key.json",
                b'{"Code":"Success","Code":"Success","AccessKeyId":"A"}'))
    out.append(("array.json", b'["Success"]'))
    return out


STS_NS = "https://sts.amazonaws.com/doc/2011-06-15/"


def sts(creds, root="AssumeRoleResponse", ns=STS_NS, prefix=""):
    p = prefix + ":" if prefix else ""
    xmlns = ' xmlns%s="%s"' % (":" + prefix if prefix else "", ns) if ns \
        else ""
    body = "".join("<%s%s>%s</%s%s>" % (p, k, v, p, k) for k, v in creds)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<%s%s%s><%sAssumeRoleResult>'
            "<%sAssumedRoleUser><%sArn>arn:aws:sts::222222222222:assumed-role/r/s"
            "</%sArn></%sAssumedRoleUser><%sCredentials>%s</%sCredentials>"
            "</%sAssumeRoleResult><%sResponseMetadata><%sRequestId>c6104cbe"
            "</%sRequestId></%sResponseMetadata></%s%s>\n" %
            (p, root, xmlns, p, p, p, p, p, p, body, p, p, p, p, p, p, p,
             root)).encode()


def assume_role_seeds():
    full = [("AccessKeyId", "ASIA0123456789ABCDEF"),
            ("SecretAccessKey", "sk/0123+abc"),
            ("SessionToken", "tok+/=0123"),
            ("Expiration", "2026-11-22T05:00:00Z")]
    return [
        ("full.xml", sts(full)),
        ("prefixed.xml", sts(full, prefix="s")),
        ("cdata-entity-blanks.xml", sts([
            ("AccessKeyId", "\n  ASIAX\n"), ("SecretAccessKey", "a&amp;b"),
            ("SessionToken", "<![CDATA[t<o>k]]>"),
            ("Expiration", "2026-11-22T05:00:00.000Z")])),
        ("no-token.xml", sts(full[:2] + full[3:])),
        ("empty-key.xml", sts([("AccessKeyId", " ")] + full[1:])),
        ("no-namespace.xml", sts(full, ns=None)),
        ("ec2-namespace.xml", sts(full, ns="http://ec2.amazonaws.com/doc/"
                                            "2016-11-15/")),
        ("error.xml", ('<ErrorResponse xmlns="%s"><Error><Type>Sender</Type>'
                       "<Code>AccessDenied</Code><Message>no</Message>"
                       "</Error><RequestId>x</RequestId></ErrorResponse>"
                       % STS_NS).encode()),
        ("dtd.xml", ('<?xml version="1.0"?><!DOCTYPE AssumeRoleResponse '
                     '[<!ENTITY k "ASIA">]><AssumeRoleResponse xmlns="%s">'
                     "<AssumeRoleResult><Credentials><AccessKeyId>&k;"
                     "</AccessKeyId></Credentials></AssumeRoleResult>"
                     "</AssumeRoleResponse>" % STS_NS).encode()),
    ]


def main():
    xml = xml_seeds()
    write("describe_xml", xml)
    write("error_xml", xml)
    write("assume_role_xml", assume_role_seeds())
    write("config", config_seeds())
    write("certname", certname_seeds())
    write("imds_creds", creds_seeds())


if __name__ == "__main__":
    main()
