#!/usr/bin/python3
"""Tests for tests/fake_ec2.py, the fake EC2 + IMDS server.

Run with: /usr/bin/python3 tests/test_fake_ec2.py [unittest options]

Requests are signed with botocore itself, so a request the server accepts is
one a real SigV4 client produces; the published AWS SigV4 test vector checks
the verifier independently of botocore's signer.
"""

import datetime
import email.parser
import hashlib
import hmac
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse
import xml.etree.ElementTree as ET

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import fake_ec2  # noqa: E402  (needs the path above)

BASIC_FLEET = os.path.join(ROOT, "fixtures", "fleets", "basic.json")
MULTIREGION_FLEET = os.path.join(ROOT, "fixtures", "fleets", "multiregion.json")
ACCOUNTS_FLEET = os.path.join(ROOT, "fixtures", "fleets", "accounts.json")
STS_NS = "{" + fake_ec2.STS_NAMESPACE + "}"
NS = "{" + fake_ec2.DEFAULT_NAMESPACE + "}"

DEFAULT_CRED = ("AKIDTEST", "secrettestkey0123456789", None)
TOKEN_CRED = ("AKIDTOKEN", "tokensecret0123456789", "sessiontoken+/=0123")
IMDS_CRED = ("ASIAIMDSTEST0000001", "imdssecretkey0123456789",
             "imdssessiontoken0123456789+/=")
DESCRIBE = {"Action": "DescribeInstances", "Version": "2016-11-15"}


def basic_id(n):
    return f"i-0a1b2c3d4e5f6000{n}"


def sign(port, params, cred=DEFAULT_CRED, region="us-east-1", service="ec2"):
    """A botocore-signed DescribeInstances-style request: (body, headers)."""
    body = urllib.parse.urlencode(params).encode()
    request = AWSRequest(method="POST", url=f"http://127.0.0.1:{port}/", data=body,
                         headers={"Content-Type":
                                  "application/x-www-form-urlencoded; charset=utf-8"})
    SigV4Auth(Credentials(*cred), service, region).add_auth(request)
    headers = dict(request.headers.items())
    headers["Host"] = f"127.0.0.1:{port}"
    return body, headers


def reference_authorization(body, headers, cred, region, service):
    """A SigV4 Authorization header computed from the AWS documentation,
    independently of botocore, signing every header in `headers`."""
    akid, secret, _ = cred
    amz_date = headers["X-Amz-Date"]
    lowered = {name.lower(): " ".join(value.split()) for name, value in headers.items()}
    names = ";".join(sorted(lowered))
    canonical = "\n".join(["POST", "/", "",
                           "".join(f"{n}:{lowered[n]}\n" for n in sorted(lowered)),
                           names, hashlib.sha256(body).hexdigest()])
    scope = f"{amz_date[:8]}/{region}/{service}/aws4_request"
    string_to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope,
                                hashlib.sha256(canonical.encode()).hexdigest()])
    key = ("AWS4" + secret).encode()
    for part in (amz_date[:8], region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
    return (f"AWS4-HMAC-SHA256 Credential={akid}/{scope}, SignedHeaders={names}, "
            f"Signature={signature}")


def curl_has_aws_sigv4():
    if not shutil.which("curl"):
        return False
    usage = subprocess.run(["curl", "--help", "all"], capture_output=True).stdout
    return b"--aws-sigv4" in usage


def as_message(headers):
    """Request headers as the http.client.HTTPMessage the server handler sees."""
    text = "".join(f"{name}: {value}\r\n" for name, value in headers.items()) + "\r\n"
    return email.parser.Parser(_class=http.client.HTTPMessage).parsestr(text)


def parse_instances(body):
    """[(reservation id, instance id, state, [(tag, value)], [(group id, name)])]."""
    root = ET.fromstring(body)
    assert root.tag == NS + "DescribeInstancesResponse", root.tag
    result = []
    for reservation in root.findall(f"{NS}reservationSet/{NS}item"):
        rid = reservation.findtext(NS + "reservationId")
        for item in reservation.findall(f"{NS}instancesSet/{NS}item"):
            tags = [(t.findtext(NS + "key"), t.findtext(NS + "value"))
                    for t in item.findall(f"{NS}tagSet/{NS}item")]
            groups = [(g.findtext(NS + "groupId"), g.findtext(NS + "groupName"))
                      for g in item.findall(f"{NS}groupSet/{NS}item")]
            result.append((rid, item.findtext(NS + "instanceId"),
                           item.findtext(f"{NS}instanceState/{NS}name"), tags, groups))
    return result


def ids(body):
    return [instance_id for _, instance_id, *_ in parse_instances(body)]


def error_code(body):
    root = ET.fromstring(body)
    assert root.tag == "Response", root.tag
    return root.findtext("Errors/Error/Code")


class FakeServer:
    """fake_ec2.py running as a subprocess on a free port."""

    def __init__(self, fleet, *creds):
        self.dir = tempfile.mkdtemp(prefix="fake_ec2_test.")
        self.log = os.path.join(self.dir, "server.log")
        self.stderr_path = os.path.join(self.dir, "stderr")
        port_file = os.path.join(self.dir, "port")
        command = [sys.executable, os.path.join(HERE, "fake_ec2.py"), "--fleet", fleet,
                   "--port", "0", "--port-file", port_file, "--log", self.log]
        for akid, secret, token in creds:
            command += ["--cred", ":".join(filter(None, (akid, secret, token)))]
        with open(self.stderr_path, "w") as stderr:
            self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=stderr,
                                            text=True)
        line = self.process.stdout.readline()
        if not line.startswith("PORT "):
            with open(self.stderr_path) as f:
                raise RuntimeError(f"fake_ec2.py did not start: {f.read()}")
        self.port = int(line.split()[1])
        with open(port_file) as f:
            assert int(f.read()) == self.port

    def stop(self, signum=signal.SIGTERM):
        """Signal the server; returns (exit status, stderr text)."""
        self.process.send_signal(signum)
        status = self.process.wait(timeout=5)
        self.process.stdout.close()
        with open(self.stderr_path) as f:
            stderr = f.read()
        shutil.rmtree(self.dir)
        return status, stderr

    def read_log(self):
        with open(self.log, encoding="utf-8") as f:
            return f.read()

    def http(self, method, path, body=None, headers=None, timeout=5):
        """One request on a fresh connection: (status, body, HTTPResponse)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            return response.status, response.read(), response
        finally:
            conn.close()

    def control(self, path, document=None):
        method = "GET" if document is None and path.endswith("stats") else "POST"
        body = None if document is None else json.dumps(document)
        status, data, _ = self.http(method, "/__control/" + path, body)
        return status, json.loads(data)

    def ec2(self, params, cred=DEFAULT_CRED, region="us-east-1", **kwargs):
        body, headers = sign(self.port, params, cred, region)
        return self.http("POST", "/", body, headers, **kwargs)

    def imds_token(self, ttl="60"):
        status, token, _ = self.http("PUT", "/latest/api/token",
                                     headers={"X-aws-ec2-metadata-token-ttl-seconds": ttl})
        assert status == 200, status
        return token.decode()


class SignatureVerifierTests(unittest.TestCase):
    """fake_ec2.verify_sigv4, called directly."""

    CREDENTIALS = {DEFAULT_CRED[0]: DEFAULT_CRED[1:], TOKEN_CRED[0]: TOKEN_CRED[1:]}

    def verify(self, body, headers, target="/"):
        return fake_ec2.verify_sigv4("POST", target, as_message(headers), body,
                                     self.CREDENTIALS)

    def test_reproduces_botocore_signatures(self):
        for cred in (DEFAULT_CRED, TOKEN_CRED):
            for region in ("us-east-1", "eu-west-1"):
                body, headers = sign(8080, dict(DESCRIBE, **{"Filter.1.Name": "tag:Name",
                                                             "Filter.1.Value.1": "a b+c/é*"}),
                                     cred, region)
                scope = self.verify(body, headers)
                self.assertEqual((scope.access_key, scope.region, scope.service),
                                 (cred[0], region, "ec2"))
                expected = "content-type;host;x-amz-date"
                if cred[2]:
                    expected += ";x-amz-security-token"
                self.assertEqual(scope.signed_headers, expected)

    def test_aws_published_test_vector(self):
        # "post-x-www-form-urlencoded" from the AWS SigV4 test suite.
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Host": "example.amazonaws.com",
            "X-Amz-Date": "20150830T123600Z",
            "Authorization": "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/"
                             "service/aws4_request, SignedHeaders=content-type;host;x-amz-date, "
                             "Signature=ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0"
                             "fe09473a",
        }
        credentials = {"AKIDEXAMPLE": ("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", None)}
        scope = fake_ec2.verify_sigv4("POST", "/", as_message(headers), b"Param1=value1",
                                      credentials)
        self.assertEqual(scope.service, "service")
        with self.assertRaises(fake_ec2.AuthError):
            fake_ec2.verify_sigv4("POST", "/", as_message(headers), b"Param1=value2",
                                  credentials)
        # The reference signer used below agrees with AWS too.
        unsigned = {k: v for k, v in headers.items() if k != "Authorization"}
        self.assertEqual(reference_authorization(
            b"Param1=value1", unsigned, ("AKIDEXAMPLE",) + credentials["AKIDEXAMPLE"],
            "us-east-1", "service"), headers["Authorization"])

    def test_headers_botocore_would_not_sign(self):
        # botocore never signs these itself, but AWS accepts them signed.
        body = b"Action=DescribeInstances&Version=2016-11-15"
        headers = {"Content-Type": "application/x-www-form-urlencoded",
                   "Host": "127.0.0.1:8080", "User-Agent": "enc/1.0  (test)",
                   "Expect": "100-continue", "X-Amz-Date": "20260102T030405Z"}
        headers["Authorization"] = reference_authorization(body, headers, DEFAULT_CRED,
                                                           "us-east-1", "ec2")
        scope = self.verify(body, headers)
        self.assertEqual(scope.signed_headers,
                         "content-type;expect;host;user-agent;x-amz-date")

    def assert_rejected(self, body, headers, reason_part):
        with self.assertRaises(fake_ec2.AuthError) as caught:
            self.verify(body, headers)
        self.assertIn(reason_part, caught.exception.reason)
        return caught.exception

    def test_rejections(self):
        body, headers = sign(8080, DESCRIBE)
        self.assert_rejected(body + b"&x=1", headers, "signature mismatch")
        self.assert_rejected(body, dict(headers, Host="127.0.0.1:8081"), "signature mismatch")
        self.assert_rejected(body, {k: v for k, v in headers.items() if k != "Authorization"},
                             "Authorization")
        # Credential scope date that is not X-Amz-Date's date.
        other_day = headers["Authorization"].replace(headers["X-Amz-Date"][:8], "20000101")
        self.assert_rejected(body, dict(headers, Authorization=other_day), "scope date")
        # Signed header names must be in botocore's canonical form.
        upper = headers["Authorization"].replace("content-type;host", "Content-Type;host")
        self.assert_rejected(body, dict(headers, Authorization=upper), "SignedHeaders")

    def test_token_rules(self):
        body, headers = sign(8080, DESCRIBE, TOKEN_CRED)
        error = self.assert_rejected(
            body, dict(headers, **{"X-Amz-Security-Token": "wrong"}), "Security-Token")
        self.assertEqual(error.client_message, fake_ec2.INVALID_TOKEN_MESSAGE)
        # A long-term key does not take a session token.
        body, headers = sign(8080, DESCRIBE, DEFAULT_CRED[:2] + ("stray",))
        self.assert_rejected(body, headers, "long-term")

    def test_canonical_request_in_log_hides_token(self):
        body, headers = sign(8080, DESCRIBE, TOKEN_CRED)
        error = self.assert_rejected(body + b"&x=1", headers, "signature mismatch")
        self.assertIn("x-amz-security-token:<redacted>", error.detail)
        self.assertNotIn(TOKEN_CRED[2], error.detail)
        self.assertNotIn(TOKEN_CRED[1], error.detail)


class HelperTests(unittest.TestCase):
    """Pure functions of fake_ec2."""

    def test_wildcards(self):
        cases = [("web*", "web01", True), ("web*", "xweb", False), ("web0?", "web01", True),
                 ("web0?", "web0", False), ("*", "", True), (r"a\*", "a*", True),
                 (r"a\*", "ab", False), (r"a\?", "a?", True), ("<&>", "<&>", True),
                 ("a.b", "axb", False)]
        for pattern, value, expected in cases:
            self.assertEqual(bool(fake_ec2.wildcard_regex(pattern).fullmatch(value)),
                             expected, (pattern, value))

    def test_page_tokens(self):
        key = b"k" * 32
        for offset in range(0, 40):
            token = fake_ec2.encode_page_token(key, offset, "scope")
            self.assertTrue(token.startswith("++++////") and token.endswith("="), token)
            self.assertEqual(fake_ec2.decode_page_token(key, token, "scope"), offset)
        for bad in (token.replace("+", " "), token[:-4], "garbage", ""):
            with self.assertRaises(fake_ec2.ApiError):
                fake_ec2.decode_page_token(key, bad, "scope")
        with self.assertRaises(fake_ec2.ApiError):
            fake_ec2.decode_page_token(key, token, "other scope")

    def test_imds_without_section(self):
        self.assertIsNone(fake_ec2.imds_document(None, "/latest/meta-data/instance-id"))

    def test_fleet_validation(self):
        with tempfile.NamedTemporaryFile("w", suffix=".json") as f:
            json.dump({"regions": {"us-east-1": [{"id": "i-0a1b2c3d", "tag": []}]}}, f)
            f.flush()
            with self.assertRaisesRegex(fake_ec2.FleetError, "unknown keys"):
                fake_ec2.load_fleet(f.name)

    def test_defaults_never_invent_tags_or_groups(self):
        instance = fake_ec2.normalize_instance({"id": "i-0a1b2c3d"}, "eu-west-1", "x")
        self.assertEqual((instance["tags"], instance["groups"]), ([], []))
        self.assertTrue(instance["private_dns"].endswith(".eu-west-1.compute.internal"))
        terminated = fake_ec2.normalize_instance({"id": "i-0a1b2c3d", "state": "terminated"},
                                                 "eu-west-1", "x")
        self.assertIsNone(terminated["private_ip"])


class BasicFleetTests(unittest.TestCase):
    """The server with fixtures/fleets/basic.json."""

    @classmethod
    def setUpClass(cls):
        cls.server = FakeServer(BASIC_FLEET, DEFAULT_CRED, TOKEN_CRED)

    @classmethod
    def tearDownClass(cls):
        status, stderr = cls.server.stop(signal.SIGTERM)
        assert status == 0, f"exit status {status}"
        assert "Traceback" not in stderr, stderr

    def setUp(self):
        self.assertEqual(self.server.control("reset", {})[0], 200)

    def describe(self, params=None, **kwargs):
        status, body, _ = self.server.ec2(dict(DESCRIBE, **(params or {})), **kwargs)
        self.assertEqual(status, 200, body)
        return body

    def filtered(self, *filters):
        params = {}
        for n, (name, *values) in enumerate(filters, 1):
            params[f"Filter.{n}.Name"] = name
            for m, value in enumerate(values, 1):
                params[f"Filter.{n}.Value.{m}"] = value
        return ids(self.describe(params))

    def assert_error(self, params, status, code, **kwargs):
        got_status, body, _ = self.server.ec2(dict(DESCRIBE, **params), **kwargs)
        self.assertEqual((got_status, error_code(body)), (status, code), body)
        return body

    # ---- signatures

    def test_signed_request_accepted_and_recorded(self):
        body = self.describe()
        self.assertEqual(ids(body), [basic_id(n) for n in range(1, 9)])
        stats = self.server.control("stats")[1]
        self.assertEqual((stats["ec2_requests"], stats["actions"], stats["auth_failures"]),
                         (1, {"DescribeInstances": 1}, 0))
        request = stats["requests"][-1]
        self.assertEqual((request["action"], request["params"], request["signed_headers"],
                          request["status"], request["region"]),
                         ("DescribeInstances", DESCRIBE, "content-type;host;x-amz-date", 200,
                          "us-east-1"))

    def test_bad_signatures_get_auth_failure(self):
        port = self.server.port
        body, headers = sign(port, DESCRIBE)
        forged_signature = headers["Authorization"][:-1] + (
            "0" if headers["Authorization"][-1] != "0" else "1")
        attempts = [
            (body.replace(b"DescribeInstances", b"DescribeInstancez"), headers),
            (body, dict(headers, Authorization=forged_signature)),
            sign(port, DESCRIBE, (DEFAULT_CRED[0], "wrongsecret", None)),
            sign(port, DESCRIBE, ("AKIDUNKNOWN", DEFAULT_CRED[1], None)),
            sign(port, DESCRIBE, service="s3"),
            (body, {k: v for k, v in headers.items() if k != "Authorization"}),
        ]
        for request_body, request_headers in attempts:
            status, data, _ = self.server.http("POST", "/", request_body, request_headers)
            self.assertEqual((status, error_code(data)), (401, "AuthFailure"))
        self.assertEqual(self.server.control("stats")[1]["auth_failures"], len(attempts))
        log = self.server.read_log()
        self.assertIn("canonical request:", log)
        self.assertNotIn(DEFAULT_CRED[1], log)

    def test_session_tokens(self):
        self.describe(cred=TOKEN_CRED)
        body, headers = sign(self.server.port, DESCRIBE, TOKEN_CRED)
        for changed in ({k: v for k, v in headers.items() if k != "X-Amz-Security-Token"},
                        dict(headers, **{"X-Amz-Security-Token": "sessiontoken"})):
            status, data, _ = self.server.http("POST", "/", body, changed)
            self.assertEqual((status, error_code(data)), (401, "AuthFailure"))
            self.assertIn(b"security token", data)
        self.assertNotIn(TOKEN_CRED[2], self.server.read_log())

    @unittest.skipUnless(curl_has_aws_sigv4(), "needs curl with --aws-sigv4")
    def test_curl_aws_sigv4_interoperates(self):
        # curl's own SigV4 (the one libcurl clients use), with a session token.
        akid, secret, token = TOKEN_CRED
        result = subprocess.run(
            ["curl", "-sS", "--fail-with-body", "--aws-sigv4", "aws:amz:us-east-1:ec2",
             "--user", f"{akid}:{secret}", "-H", f"X-Amz-Security-Token: {token}",
             "-H", "Content-Type: application/x-www-form-urlencoded",
             "-H", "Expect: 100-continue", "--data", urllib.parse.urlencode(
                 dict(DESCRIBE, **{"Filter.1.Name": "tag:Name", "Filter.1.Value.1": "web*"})),
             f"http://127.0.0.1:{self.server.port}/"],
            capture_output=True, timeout=10)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertEqual(ids(result.stdout), [basic_id(n) for n in (1, 2, 3, 8)])

    def test_keep_alive(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=5)
        sockets = set()
        for _ in range(3):
            body, headers = sign(self.server.port, DESCRIBE)
            conn.request("POST", "/", body, headers)
            response = conn.getresponse()
            self.assertEqual(response.status, 200)
            response.read()
            sockets.add(id(conn.sock))
        conn.close()
        self.assertEqual(len(sockets), 1)

    # ---- XML

    def test_response_document(self):
        body = self.describe()
        self.assertTrue(body.startswith(b'<?xml version="1.0" encoding="UTF-8"?>'))
        root = ET.fromstring(body)
        self.assertEqual(root.tag, NS + "DescribeInstancesResponse")
        self.assertTrue(root.findtext(NS + "requestId"))
        self.assertIsNone(root.find(NS + "nextToken"))
        instances = {i[1]: i for i in parse_instances(body)}
        rid, _, state, tags, groups = instances[basic_id(1)]
        self.assertEqual((rid, state), ("r-0a1b2c3d4e5f60001", "running"))
        self.assertEqual(groups, [("sg-0aaaaaaaaaaaaaaa1", "webapps"),
                                  ("sg-0bbbbbbbbbbbbbbb2", "monitoring")])
        self.assertEqual(tags[:2], [("Name", "web01"), ("roles", "webapps,monitoring")])
        # Shared reservation, and its own (different) group set.
        self.assertEqual(instances[basic_id(2)][0], instances[basic_id(3)][0])
        self.assertEqual(len(root.findall(f"{NS}reservationSet/{NS}item")), 7)
        for reservation in root.findall(f"{NS}reservationSet/{NS}item"):
            self.assertEqual(reservation.findtext(f"{NS}groupSet/{NS}item/{NS}groupName"),
                             "reservation-level-group")
        # No tags: no tagSet element at all.
        item = root.find(f".//{NS}instancesSet/{NS}item[{NS}instanceId='{basic_id(7)}']")
        self.assertIsNone(item.find(NS + "tagSet"))
        self.assertEqual(item.findtext(f"{NS}instanceState/{NS}code"), "16")
        # Terminated: no network attributes.
        item = root.find(f".//{NS}instancesSet/{NS}item[{NS}instanceId='{basic_id(5)}']")
        self.assertIsNone(item.find(NS + "privateIpAddress"))
        self.assertEqual(len(item.find(NS + "networkInterfaceSet")), 0)

    def test_awkward_tag_values(self):
        body = self.describe({"InstanceId.1": basic_id(2), "InstanceId.2": basic_id(3)})
        tags = dict(t for i in parse_instances(body) for t in i[3])
        self.assertEqual(tags["quote"], '"quoted"')
        self.assertEqual(tags["owner"], "it's café")
        self.assertEqual(tags["markup"], "<&>")
        self.assertEqual(tags["backup"], "no")
        self.assertEqual((tags["empty-even"] or "", tags["empty-odd"] or ""), ("", ""))
        self.assertIn(b"<value/>", body)
        self.assertIn(b"<value></value>", body)
        self.assertIn(b"&lt;&amp;&gt;", body)
        self.assertIn("café".encode(), body)

    def test_namespace_override(self):
        namespace = "http://ec2.amazonaws.com/doc/2013-10-15/"
        self.server.control("config", {"namespace": namespace})
        root = ET.fromstring(self.describe())
        self.assertEqual(root.tag, "{" + namespace + "}DescribeInstancesResponse")

    # ---- filters

    def test_filters(self):
        running_or_stopped = [basic_id(n) for n in (1, 2, 3, 4, 7)]
        web = [basic_id(n) for n in (1, 2, 3, 8)]
        cases = [
            ([("tag:Name", "web01")], [basic_id(1)]),
            ([("instance-state-name", "running", "stopped")], running_or_stopped),
            ([("tag:Name", "web*")], web),
            ([("tag:Name", "web0?")], web),
            ([("tag:roles", "webapps*"), ("instance-state-name", "running")],
             [basic_id(n) for n in (1, 2, 3)]),
            ([("tag:note", "a: b")], [basic_id(1)]),
            ([("tag:markup", "<&>")], [basic_id(3)]),
            ([("tag:quote", '"quoted"')], [basic_id(2)]),
            ([("tag:owner", "it's café")], [basic_id(2)]),
            ([("tag:empty-even", "")], [basic_id(3)]),
            ([("tag:aws:cloudformation:stack-name", "infra")], [basic_id(1)]),
            ([("tag-key", "empty-odd", "note")], [basic_id(1), basic_id(3)]),
            ([("tag:NoSuchTag", "*")], []),
            ([("group-name", "monitoring")], [basic_id(1)]),
            ([("instance.group-id", "sg-0ddddddddddddddd4")], [basic_id(6), basic_id(7)]),
            ([("private-ip-address", "10.0.1.*")], [basic_id(n) for n in (1, 4, 8)]),
            ([("network-interface.addresses.private-ip-address", "10.0.3.31")], [basic_id(7)]),
            ([("ip-address", "54.1.2.3")], [basic_id(1)]),
            ([("dns-name", "*.amazonaws.com")], [basic_id(1)]),
            ([("availability-zone", "us-east-1b")], [basic_id(2), basic_id(3)]),
            ([("instance-type", "t3.micro"), ("image-id", "ami-0aa11bb22cc33dd44")],
             [basic_id(1), basic_id(5)]),
            ([("instance-id", basic_id(4), basic_id(6))], [basic_id(4), basic_id(6)]),
        ]
        for filters, expected in cases:
            self.assertEqual(self.filtered(*filters), expected, filters)

    def test_parameter_errors(self):
        body = self.assert_error({"Filter.1.Name": "bogus", "Filter.1.Value.1": "x"},
                                 400, "InvalidParameterValue")
        self.assertEqual(ET.fromstring(body).findtext("Errors/Error/Message"),
                         "The filter 'bogus' is invalid")
        self.assert_error({"Filter.1.Name": "tag:Name", "Filter.1.Values.1": "x"},
                          400, "UnknownParameter")
        self.assert_error({"InstanceId.1": "i-0123456789abcdef0"}, 400,
                          "InvalidInstanceID.NotFound")
        self.assert_error({"Action": "RunInstances"}, 400, "InvalidAction")
        self.assert_error({"DryRun": "true"}, 412, "DryRunOperation")
        status, body, _ = self.server.ec2({"Action": "DescribeInstances"})
        self.assertEqual((status, error_code(body)), (400, "MissingParameter"))
        self.assertEqual(ids(self.describe({"InstanceId.1": basic_id(8),
                                            "InstanceId.2": basic_id(1)})),
                         [basic_id(1), basic_id(8)])

    def test_max_results_validation(self):
        for bad in ("4", "1001", "abc", "", "-5", "5.0"):
            self.assert_error({"MaxResults": bad}, 400, "InvalidParameterValue")
        for good in ("5", "1000"):
            self.describe({"MaxResults": good})

    # ---- pagination

    def collect_pages(self, params):
        """All pages of a DescribeInstances call: (instance ids, page count, tokens)."""
        found, tokens = [], []
        while True:
            body = self.describe(dict(params, **({"NextToken": tokens[-1]} if tokens else {})))
            found += ids(body)
            token = ET.fromstring(body).findtext(NS + "nextToken")
            if token is None:
                return found, len(tokens) + 1, tokens
            tokens.append(token)

    def test_pagination_reaches_every_instance_once(self):
        self.server.control("config", {"page_size": 2})
        found, pages, tokens = self.collect_pages({"MaxResults": "5"})
        self.assertEqual(found, [basic_id(n) for n in range(1, 9)])
        self.assertEqual(pages, 4)
        for token in tokens:
            self.assertTrue({"+", "/", "="} <= set(token), token)
        # page_size also applies without MaxResults.
        self.assertEqual(self.collect_pages({})[1], 4)
        # MaxResults alone pages too.
        self.server.control("config", {"page_size": None})
        found, pages, _ = self.collect_pages({"MaxResults": "5"})
        self.assertEqual((found, pages), ([basic_id(n) for n in range(1, 9)], 2))

    def test_bad_next_tokens(self):
        self.server.control("config", {"page_size": 2})
        token = ET.fromstring(self.describe()).findtext(NS + "nextToken")
        self.assert_error({"NextToken": "garbage"}, 400, "InvalidParameterValue")
        self.assert_error({"NextToken": token.replace("+", " ")}, 400, "InvalidParameterValue")
        self.assert_error({"NextToken": token, "Filter.1.Name": "tag-key",
                           "Filter.1.Value.1": "Name"}, 400, "InvalidParameterValue")

    def test_short_page_fault(self):
        self.server.control("fault", {"kind": "short_page"})
        first = self.describe({"MaxResults": "6"})
        self.assertEqual(len(ids(first)), 3)
        token = ET.fromstring(first).findtext(NS + "nextToken")
        found, _, _ = self.collect_pages({"MaxResults": "6"})
        rest = ids(self.describe({"MaxResults": "6", "NextToken": token}))
        self.assertEqual(ids(first) + rest, found)
        self.assertEqual(found, [basic_id(n) for n in range(1, 9)])

    # ---- faults

    def test_faults_are_consumed_in_order(self):
        self.server.control("fault", {"kind": "throttle", "count": 2})
        self.server.control("fault", {"kind": "unauthorized"})
        statuses = []
        for _ in range(4):
            status, body, _ = self.server.ec2(DESCRIBE)
            statuses.append((status, error_code(body) if status != 200 else None))
        self.assertEqual(statuses, [(503, "RequestLimitExceeded"), (503, "RequestLimitExceeded"),
                                    (403, "UnauthorizedOperation"), (200, None)])
        self.assertEqual(self.server.control("stats")[1]["pending_faults"], [])

    def test_forever_fault_until_reset(self):
        self.server.control("fault", {"kind": "error500", "count": -1})
        for _ in range(3):
            self.assertEqual(self.server.ec2(DESCRIBE)[0], 500)
        self.server.control("reset", {})
        self.assertEqual(self.server.ec2(DESCRIBE)[0], 200)

    def test_replacing_faults(self):
        cases = {
            "error503": (503, None),
            "xml_error": (400, "InvalidParameterValue"),
            "auth_failure": (401, "AuthFailure"),
            "expired_token": (400, "ExpiredToken"),
            "error_in_200": (200, "InternalError"),
        }
        for kind, (status, code) in cases.items():
            self.server.control("fault", {"kind": kind})
            got_status, body, _ = self.server.ec2(DESCRIBE)
            self.assertEqual((got_status, error_code(body) if body else None), (status, code),
                             kind)
        self.server.control("fault", {"kind": "html"})
        status, body, response = self.server.ec2(DESCRIBE)
        self.assertEqual((status, response.getheader("Content-Type").split(";")[0]),
                         (200, "text/html"))
        self.server.control("fault", {"kind": "garbage200"})
        status, body, _ = self.server.ec2(DESCRIBE)
        self.assertEqual(status, 200)
        with self.assertRaises(ET.ParseError):
            ET.fromstring(body)

    def test_connection_faults(self):
        self.server.control("fault", {"kind": "reset"})
        with self.assertRaises(ConnectionError):
            self.server.ec2(DESCRIBE)
        self.server.control("fault", {"kind": "truncate"})
        with self.assertRaises(http.client.IncompleteRead):
            self.server.ec2(DESCRIBE)
        self.assertEqual(self.server.ec2(DESCRIBE)[0], 200)

    def test_hang_does_not_block_other_requests(self):
        self.server.control("fault", {"kind": "hang", "delay": 1.0})
        with self.assertRaises(TimeoutError):
            self.server.ec2(DESCRIBE, timeout=0.3)
        hanging = self.server.control("stats")[1]["requests"][-1]
        self.assertEqual((hanging["fault"], hanging["status"]), ("hang", None))
        start = time.monotonic()
        self.assertEqual(self.server.ec2(DESCRIBE)[0], 200)
        self.assertLess(time.monotonic() - start, 0.5)

    def test_huge_response(self):
        size = 2 * 1024 * 1024
        self.server.control("fault", {"kind": "huge", "size": size})
        status, body, response = self.server.ec2(DESCRIBE)
        self.assertEqual((status, int(response.getheader("Content-Length")), len(body)),
                         (200, size, size))
        self.assertEqual(len(ids(body)), 8)

    def test_hidden_instances(self):
        status, doc = self.server.control("config", {"hidden": ["i-0a1b2c3d4e5f60001"]})
        self.assertEqual((status, doc["hidden"]), (200, ["i-0a1b2c3d4e5f60001"]))
        status, body, _ = self.server.ec2(DESCRIBE)
        self.assertEqual(status, 200)
        self.assertNotIn("i-0a1b2c3d4e5f60001", ids(body))
        self.assertEqual(len(ids(body)), 7)
        self.assertEqual(self.server.control("config", {"hidden": "x"})[0], 400)

    def test_bad_utf8_fault(self):
        self.server.control("fault", {"kind": "bad_utf8"})
        status, body, _ = self.server.ec2(DESCRIBE)
        self.assertEqual(status, 200)
        self.assertIn(b"<value>\xff", body)
        with self.assertRaises(UnicodeDecodeError):
            body.decode("utf-8")

    def test_fault_validation(self):
        for spec in ({"kind": "nope"}, {"kind": "v1_only"}, {"kind": "reset", "target": "imds"},
                     {"kind": "throttle", "count": 0}, {"kind": "throttle", "cout": 2}):
            self.assertEqual(self.server.control("fault", spec)[0], 400, spec)

    # ---- IMDS

    def imds_get(self, path, token=None):
        headers = {"X-aws-ec2-metadata-token": token} if token else {}
        status, body, _ = self.server.http("GET", path, headers=headers)
        return status, body.decode()

    def test_imds_token_flow(self):
        status, body, response = self.server.http(
            "PUT", "/latest/api/token", headers={"X-aws-ec2-metadata-token-ttl-seconds": "21600"})
        self.assertEqual((status, response.getheader("X-aws-ec2-metadata-token-ttl-seconds")),
                         (200, "21600"))
        token = body.decode()
        self.assertEqual(self.imds_get("/latest/meta-data/instance-id", token),
                         (200, basic_id(1)))
        self.assertEqual(self.imds_get("/latest/meta-data/placement/region", token),
                         (200, "us-east-1"))
        self.assertEqual(self.imds_get("/latest/meta-data/placement/availability-zone", token),
                         (200, "us-east-1a"))
        self.assertEqual(self.imds_get("/latest/meta-data/iam/security-credentials/", token),
                         (200, "ec2-classify"))
        status, document = self.imds_get(
            "/latest/meta-data/iam/security-credentials/ec2-classify", token)
        credentials = json.loads(document)
        self.assertEqual((credentials["Code"], credentials["AccessKeyId"], credentials["Token"]),
                         ("Success", IMDS_CRED[0], IMDS_CRED[2]))
        identity = json.loads(self.imds_get("/latest/dynamic/instance-identity/document",
                                            token)[1])
        self.assertEqual(identity["region"], "us-east-1")
        self.assertEqual(self.imds_get("/latest/meta-data/nope", token)[0], 404)
        # The role's credentials sign EC2 requests.
        self.describe(cred=(credentials["AccessKeyId"], credentials["SecretAccessKey"],
                            credentials["Token"]))

    def test_imds_refuses_without_valid_token(self):
        self.assertEqual(self.imds_get("/latest/meta-data/instance-id"), (401, ""))
        self.assertEqual(self.imds_get("/latest/meta-data/instance-id", "forged"), (401, ""))
        for ttl in ("0", "21601", "x", None):
            headers = {"X-aws-ec2-metadata-token-ttl-seconds": ttl} if ttl else {}
            self.assertEqual(self.server.http("PUT", "/latest/api/token", headers=headers)[0],
                             400, ttl)
        token = self.server.imds_token(ttl="1")
        time.sleep(1.1)
        self.assertEqual(self.imds_get("/latest/meta-data/instance-id", token)[0], 401)

    def test_imds_faults(self):
        self.server.control("fault", {"kind": "v1_only", "target": "imds", "count": -1})
        self.assertEqual(self.server.http("PUT", "/latest/api/token", headers={
            "X-aws-ec2-metadata-token-ttl-seconds": "60"})[0], 405)
        self.assertEqual(self.imds_get("/latest/meta-data/instance-id"), (200, basic_id(1)))
        self.assertEqual(self.server.control("stats")[1]["imds_requests"], 2)
        self.server.control("reset", {})
        self.server.control("fault", {"kind": "error500", "target": "imds"})
        self.assertEqual(self.server.http("PUT", "/latest/api/token", headers={
            "X-aws-ec2-metadata-token-ttl-seconds": "60"})[0], 500)
        self.server.control("fault", {"kind": "hang", "target": "imds", "delay": 0.5})
        with self.assertRaises(TimeoutError):
            self.server.http("GET", "/latest/meta-data/instance-id", timeout=0.1)


class MultiRegionTests(unittest.TestCase):
    """The server with fixtures/fleets/multiregion.json."""

    FLEET_CRED = ("ASIAMULTIREGION0001", "multiregionsecret0123456789",
                  "multiregiontoken0123456789")

    @classmethod
    def setUpClass(cls):
        cls.server = FakeServer(MULTIREGION_FLEET)  # default credentials

    @classmethod
    def tearDownClass(cls):
        status, stderr = cls.server.stop(signal.SIGINT)
        assert status == 0, f"exit status {status}"
        assert "Traceback" not in stderr, stderr

    def region_ids(self, region, params=None, cred=DEFAULT_CRED):
        status, body, _ = self.server.ec2(dict(DESCRIBE, **(params or {})), cred, region)
        self.assertEqual(status, 200, body)
        return ids(body)

    def test_region_comes_from_credential_scope(self):
        self.assertEqual(self.region_ids("us-east-1"),
                         [f"i-0d0d0d0d0d0d0000{n}" for n in (1, 2, 3)])
        self.assertEqual(self.region_ids("eu-west-1"),
                         [f"i-0e0e0e0e0e0e0000{n}" for n in (1, 2, 3)])
        self.assertEqual(self.region_ids("ap-south-1"), [])
        self.assertEqual(self.region_ids("eu-west-1", {"Filter.1.Name": "tag:Name",
                                                       "Filter.1.Value.1": "app01"}),
                         ["i-0e0e0e0e0e0e00001"])

    def test_fleet_credentials_accepted(self):
        self.assertEqual(len(self.region_ids("eu-west-1", cred=self.FLEET_CRED)), 3)

    def test_imds_without_role(self):
        token = self.server.imds_token()
        headers = {"X-aws-ec2-metadata-token": token}
        status, body, _ = self.server.http("GET", "/latest/meta-data/placement/region",
                                           headers=headers)
        self.assertEqual((status, body), (200, b"eu-west-1"))
        status, _, _ = self.server.http("GET", "/latest/meta-data/iam/security-credentials/",
                                        headers=headers)
        self.assertEqual(status, 404)


def sts_error(body):
    """(Type, Code) of an STS error document."""
    root = ET.fromstring(body)
    assert root.tag == STS_NS + "ErrorResponse", root.tag
    return root.findtext(f"{STS_NS}Error/{STS_NS}Type"), \
        root.findtext(f"{STS_NS}Error/{STS_NS}Code")


class AccountsTests(unittest.TestCase):
    """STS AssumeRole and other accounts, with fixtures/fleets/accounts.json."""

    ENC_READ = "arn:aws:iam::222222222222:role/enc-read"
    HOP = "arn:aws:iam::333333333333:role/hop"

    @classmethod
    def setUpClass(cls):
        cls.server = FakeServer(ACCOUNTS_FLEET, DEFAULT_CRED, TOKEN_CRED)

    @classmethod
    def tearDownClass(cls):
        status, stderr = cls.server.stop()
        assert status == 0, f"exit status {status}"
        assert "Traceback" not in stderr, stderr

    def setUp(self):
        self.server.control("reset", {})

    def sts(self, params, cred=DEFAULT_CRED, region="us-east-1", service="sts"):
        body, headers = sign(self.server.port, params, cred, region, service)
        return self.server.http("POST", "/", body, headers)

    def assume(self, role, cred=DEFAULT_CRED, **extra):
        params = {"Action": "AssumeRole", "Version": "2011-06-15", "RoleArn": role,
                  "RoleSessionName": "test-session", **extra}
        return self.sts(params, cred)

    def credentials(self, body):
        root = ET.fromstring(body)
        self.assertEqual(root.tag, STS_NS + "AssumeRoleResponse")
        c = root.find(f"{STS_NS}AssumeRoleResult/{STS_NS}Credentials")
        return tuple(c.findtext(STS_NS + k) for k in
                     ("AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"))

    def test_assume_role_issues_credentials_of_the_account(self):
        status, body, _ = self.assume(self.ENC_READ, DurationSeconds="900")
        self.assertEqual(status, 200, body)
        akid, secret, token, expiration = self.credentials(body)
        self.assertRegex(akid, r"^ASIA[0-9A-F]{16}$")
        self.assertRegex(secret, r"^stssecret[0-9a-f]{31}$")
        self.assertRegex(token, r"^ststoken[0-9a-f]{40}\+/=$")
        left = (datetime.datetime.strptime(expiration, "%Y-%m-%dT%H:%M:%SZ")
                .replace(tzinfo=datetime.timezone.utc) -
                datetime.datetime.now(datetime.timezone.utc)).total_seconds()
        self.assertTrue(880 < left <= 900, left)
        arn = ET.fromstring(body).findtext(
            f"{STS_NS}AssumeRoleResult/{STS_NS}AssumedRoleUser/{STS_NS}Arn")
        self.assertEqual(arn, "arn:aws:sts::222222222222:assumed-role/enc-read/test-session")
        # Signed with them, DescribeInstances sees account 222222222222.
        issued = (akid, secret, token)
        status, page, _ = self.server.ec2(DESCRIBE, issued)
        self.assertEqual(status, 200, page)
        self.assertEqual(ids(page), ["i-02222222222200001"])
        owners = {e.text for e in ET.fromstring(page).iter(NS + "ownerId")}
        self.assertEqual(owners, {"222222222222"})
        status, page, _ = self.server.ec2(DESCRIBE, issued, "eu-west-1")
        self.assertEqual(ids(page), ["i-02222222222200002"])
        # The default account's keys see the default account's fleet.
        status, page, _ = self.server.ec2(DESCRIBE)
        self.assertEqual(ids(page), ["i-0c0c0c0c0c0c00001"])
        self.assertEqual({e.text for e in ET.fromstring(page).iter(NS + "ownerId")},
                         {fake_ec2.OWNER_ID})
        # Without the session token they are refused.
        status, page, _ = self.server.ec2(DESCRIBE, (akid, secret, None))
        self.assertEqual((status, error_code(page)), (401, "AuthFailure"))
        stats = self.server.control("stats")[1]
        self.assertEqual(stats["sts_requests"], 1)
        self.assertEqual(stats["actions"]["AssumeRole"], 1)
        self.assertNotIn(secret, self.server.read_log())

    def test_issued_credentials_are_deterministic_until_reset(self):
        first = self.credentials(self.assume(self.ENC_READ)[1])
        second = self.credentials(self.assume(self.ENC_READ)[1])
        self.assertNotEqual(first[:3], second[:3])
        self.server.control("reset", {})
        self.assertEqual(self.credentials(self.assume(self.ENC_READ)[1])[:3], first[:3])
        # reset forgot the second set
        status, page, _ = self.server.ec2(DESCRIBE, second[:3])
        self.assertEqual((status, error_code(page)), (401, "AuthFailure"))

    def test_role_chain(self):
        akid, secret, token, _ = self.credentials(self.assume(self.ENC_READ)[1])
        status, body, _ = self.assume(self.HOP, (akid, secret, token))
        self.assertEqual(status, 200, body)
        hop = self.credentials(body)[:3]
        self.assertEqual(ids(self.server.ec2(DESCRIBE, hop)[1]), ["i-03333333333300001"])
        # hop trusts sessions of enc-read, not the keys they came from
        status, body, _ = self.assume(self.HOP)
        self.assertEqual((status, sts_error(body)), (403, ("Sender", "AccessDenied")))

    def test_access_denied(self):
        cases = [
            ("arn:aws:iam::222222222222:role/no-trust", {}),
            ("arn:aws:iam::222222222222:role/missing", {}),
            ("arn:aws:iam::999999999999:role/enc-read", {}),
            ("arn:aws:iam::222222222222:role/enc-extid", {}),
            ("arn:aws:iam::222222222222:role/enc-extid", {"ExternalId": "wrong-id"}),
        ]
        for role, extra in cases:
            status, body, _ = self.assume(role, **extra)
            self.assertEqual((status, sts_error(body)), (403, ("Sender", "AccessDenied")),
                             (role, extra))
            self.assertIn(f"arn:aws:iam::{fake_ec2.OWNER_ID}:user/AKIDTEST",
                          ET.fromstring(body).findtext(f"{STS_NS}Error/{STS_NS}Message"))
        status, body, _ = self.assume("arn:aws:iam::222222222222:role/enc-extid",
                                      ExternalId="ext-0123456789")
        self.assertEqual(status, 200, body)
        # an ExternalId the role does not ask for is ignored
        status, body, _ = self.assume(self.ENC_READ, ExternalId="anything-1")
        self.assertEqual(status, 200, body)

    def test_validation_errors(self):
        for extra in ({"RoleSessionName": "x"}, {"RoleSessionName": "bad name"},
                      {"DurationSeconds": "899"}, {"DurationSeconds": "43201"},
                      {"DurationSeconds": "3601"}, {"DurationSeconds": "1e3"},
                      {"ExternalId": "x"}, {"RoleArn": "arn:short"}):
            status, body, _ = self.assume(self.ENC_READ, **extra)
            self.assertEqual((status, sts_error(body)), (400, ("Sender", "ValidationError")),
                             extra)
        for params in ({"Action": "GetCallerIdentity", "Version": "2011-06-15"},
                       dict(DESCRIBE)):
            status, body, _ = self.sts(params)
            self.assertEqual((status, sts_error(body)), (400, ("Sender", "InvalidAction")))

    def test_sts_authentication_errors(self):
        params = {"Action": "AssumeRole", "Version": "2011-06-15", "RoleArn": self.ENC_READ,
                  "RoleSessionName": "s1"}
        status, body, _ = self.sts(params, ("AKIDUNKNOWN", "x", None))
        self.assertEqual((status, sts_error(body)), (403, ("Sender", "InvalidClientTokenId")))
        status, body, _ = self.sts(params, (DEFAULT_CRED[0], "wrongsecret", None))
        self.assertEqual((status, sts_error(body)), (403, ("Sender", "SignatureDoesNotMatch")))
        status, body, _ = self.sts(params, (TOKEN_CRED[0], TOKEN_CRED[1], "wrongtoken"))
        self.assertEqual((status, sts_error(body)), (403, ("Sender", "InvalidClientTokenId")))
        self.assertEqual(self.server.control("stats")[1]["auth_failures"], 3)

    def test_sts_faults(self):
        self.assertEqual(self.server.control("fault", {"kind": "throttle", "target": "sts",
                                                       "count": 2})[0], 200)
        self.server.control("fault", {"kind": "auth_failure", "target": "sts"})
        self.server.control("fault", {"kind": "error500", "target": "sts"})
        # EC2 requests do not consume STS faults
        self.assertEqual(self.server.ec2(DESCRIBE)[0], 200)
        want = [(400, "Throttling", "Sender"), (400, "Throttling", "Sender"),
                (403, "InvalidClientTokenId", "Sender"), (500, "InternalFailure", "Receiver")]
        for status, code, kind in want:
            got_status, body, _ = self.assume(self.ENC_READ)
            self.assertEqual((got_status, sts_error(body)), (status, (kind, code)))
        self.assertEqual(self.assume(self.ENC_READ)[0], 200)
        self.server.control("fault", {"kind": "reset", "target": "sts"})
        with self.assertRaises((ConnectionError, http.client.HTTPException)):
            self.assume(self.ENC_READ)
        stats = self.server.control("stats")[1]
        self.assertEqual((stats["sts_requests"], stats["ec2_requests"]), (6, 1))
        status, body = self.server.control("fault", {"kind": "throttle", "target": "s3"})
        self.assertEqual(status, 400, body)


def main():
    program = unittest.main(exit=False, verbosity=1)
    result = program.result
    failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
    passed = result.testsRun - failed - len(result.skipped)
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 and result.testsRun else 1


if __name__ == "__main__":
    sys.exit(main())
