#!/usr/bin/python3
"""Fake AWS EC2 Query API and IMDSv2 server for the enc / dna-gen tests.

Tests must never talk to real AWS.  This server listens on 127.0.0.1 and
answers, on one port:

* the EC2 Query API (``POST`` to any path, form-encoded body), of which it
  implements ``DescribeInstances``.  Every request must carry a SigV4
  ``Authorization`` header that botocore's signer reproduces (over exactly
  the headers it lists), for one of the accepted credentials;
* IMDSv2 (``PUT /latest/api/token``, ``GET /latest/meta-data/...`` and
  ``GET /latest/dynamic/...``);
* STS ``AssumeRole`` (Query API, ``Version=2011-06-15``) on the same port,
  told apart by the ``sts`` service of the request's SigV4 credential scope
  and verified with botocore for that service (see "Accounts and roles");
* a control API under ``/__control/`` (no authentication) that tests use to
  inject faults, change paging and read statistics.

Usage::

    /usr/bin/python3 tests/fake_ec2.py --fleet fixtures/fleets/basic.json \\
        [--port 0] [--port-file FILE] [--cred AKID:SECRET[:TOKEN]]... \\
        [--log FILE]

It prints ``PORT N`` on stdout once it listens, writes N to --port-file
atomically, and exits with status 0 on SIGTERM or SIGINT.

Accepted credentials are the --cred options (``AKIDTEST`` /
``secrettestkey0123456789`` when there are none), plus the fleet file's
"creds" and its IMDS role credentials.  The region a request sees is the
region of its SigV4 credential scope.

Fleet file (JSON)::

    {"comment": "why this fleet exists",
     "creds": [{"access_key": "...", "secret_key": "...", "token": null}],
     "imds": {"instance_id": "i-...", "region": "us-east-1",
              "availability_zone": "us-east-1a", "role": "ec2-classify",
              "credentials": {"AccessKeyId": "...", "SecretAccessKey": "...",
                              "Token": "...", "Expiration": "..."}},
     "regions": {"us-east-1": [INSTANCE, ...]},
     "accounts": {"222222222222": {
         "regions": {"us-east-1": [INSTANCE, ...]},
         "roles": {"arn:aws:iam::222222222222:role/enc-read": {
             "trust": ["AKIDTEST", "arn:aws:iam::333333333333:role/hop"],
             "external_id": null, "max_session": 3600}}}}}

    INSTANCE: {"id", "state", "type", "image", "az", "vpc", "subnet",
               "private_ip", "private_dns", "public_ip", "public_dns",
               "launch_time", "groups": [[id, name]...],
               "tags": [[key, value]...], "reservation"}

Only "id" is required; other fields get defaults derived from the id
(terminated instances default to having no network attributes, as on AWS).
Tags and groups default to none.

Accounts and roles: the top-level "regions" are account 123456789012's,
which every --cred, fleet and IMDS credential belongs to.  "accounts" adds
other accounts (the default one may appear there with "roles" only), each
with its own regions and roles.  AssumeRole answers AccessDenied for a
role that does not exist, a caller the role's "trust" does not list (by
access key id, or by the ARN of the role whose temporary credentials it
signs with), or an ExternalId that is not the role's "external_id" (when
that is not null); ValidationError for a missing or malformed RoleArn,
RoleSessionName or ExternalId, or a DurationSeconds outside 900..43200 or
above the role's "max_session" (default 3600).  It issues temporary
credentials of the role's account, valid for DurationSeconds (default
3600): AccessKeyId "ASIA" + 16 hex digits, SecretAccessKey "stssecret" +
31 hex digits, SessionToken "ststoken" + 40 hex digits + "+/=", derived
from the role, the session name and a counter that /__control/reset
clears (with the credentials issued so far).  DescribeInstances signed
with them sees that account's regions, with its id as every ownerId.  STS
errors are STS documents (<ErrorResponse><Error><Type><Code><Message>);
a bad signature is 403 SignatureDoesNotMatch, an unknown key or a wrong
token 403 InvalidClientTokenId.

Control API:

    POST /__control/fault   {"kind": K, "count": 1, "target": "ec2"|"imds",
                             "delay": 30, "size": 20971520}
        Queue a fault for the next `count` requests of that target (-1: all
        of them), whatever those requests are; queued faults apply one after
        the other.  Target "sts" takes the EC2 kinds too, for AssumeRole
        requests (told apart by their credential scope), with STS's codes:
        throttle 400 Throttling, error500 500 InternalFailure, xml_error 400
        ValidationError, auth_failure 403 InvalidClientTokenId, unauthorized
        403 AccessDenied, expired_token 400 ExpiredTokenException,
        error_in_200 a 200 carrying an STS error document (short_page and
        bad_utf8 change nothing there).  EC2 kinds:
          throttle       503 RequestLimitExceeded
          error500       500 InternalError
          error503       503 with an empty body
          xml_error      400 InvalidParameterValue
          auth_failure   401 AuthFailure
          unauthorized   403 UnauthorizedOperation
          expired_token  400 ExpiredToken
          error_in_200   200 carrying an error document
          html           200 text/html page
          garbage200     200 whose body is not XML
          reset          TCP reset instead of an answer
          hang           sleep `delay` seconds, then answer normally
          truncate       normal answer cut to half its Content-Length, then close
          huge           normal answer padded with whitespace to `size` bytes
          short_page     DescribeInstances returns half a page, with a NextToken
          bad_utf8       normal answer with a byte 0xff (never valid UTF-8) at
                         the start of the first tag value
        IMDS kinds: hang, error500, and v1_only (the token PUT answers 405
        and GETs need no token).
    POST /__control/config  {"page_size": N|null, "namespace": URI|null,
                             "hidden": [instance ids] (left out of every answer,
                             as if not launched yet)}
    POST /__control/reset   clear faults, statistics and configuration
    GET  /__control/stats   request counters (ec2_requests, sts_requests,
                            imds_requests, auth_failures, actions) and the
                            last 200 requests
"""

import argparse
import base64
import binascii
import collections
import datetime
import hashlib
import hmac
import json
import logging
import os
import re
import secrets
import signal
import socket
import struct
import sys
import threading
import time
import urllib.parse
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.sax.saxutils import escape, quoteattr

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.compat import HTTPHeaders
from botocore.credentials import Credentials

LOG = logging.getLogger("fake_ec2")

DEFAULT_NAMESPACE = "http://ec2.amazonaws.com/doc/2016-11-15/"
DEFAULT_CREDENTIAL = ("AKIDTEST", "secrettestkey0123456789", None)
OWNER_ID = "123456789012"
STS_NAMESPACE = "https://sts.amazonaws.com/doc/2011-06-15/"
STS_VERSION = "2011-06-15"
ROLE_ARN_RE = re.compile(r"arn:aws:iam::(?P<account>[0-9]{12}):role/(?:[\w+=,.@-]+/)*"
                         r"(?P<name>[\w+=,.@-]{1,64})")
ACCOUNT_RE = re.compile(r"[0-9]{12}")
SESSION_NAME_RE = re.compile(r"[\w+=,.@-]{2,64}", re.ASCII)
EXTERNAL_ID_RE = re.compile(r"[\w+=,.@:/-]{2,1224}", re.ASCII)
SIGNATURE_MISMATCH_MESSAGE = ("The request signature we calculated does not match the "
                              "signature you provided.")
MAX_REQUEST_BODY = 1024 * 1024
HISTORY_LENGTH = 200

STATE_CODES = {
    "pending": 0,
    "running": 16,
    "shutting-down": 32,
    "terminated": 48,
    "stopping": 64,
    "stopped": 80,
}

# Fault kinds.  EC2 "replacing" faults answer instead of the API; the others
# alter the normal answer.
EC2_REPLACING_FAULTS = {
    "throttle", "error500", "error503", "xml_error", "auth_failure",
    "unauthorized", "html", "garbage200", "error_in_200", "expired_token",
    "reset",
}
EC2_FAULTS = EC2_REPLACING_FAULTS | {"hang", "truncate", "huge", "short_page", "bad_utf8"}
IMDS_FAULTS = {"hang", "v1_only", "error500"}
DEFAULT_HANG_SECONDS = 30.0
DEFAULT_HUGE_SIZE = 20 * 1024 * 1024

AUTH_FAILURE_MESSAGE = "AWS was not able to validate the provided access credentials"
INVALID_TOKEN_MESSAGE = "The security token included in the request is invalid."

INSTANCE_ID_RE = re.compile(r"i-[0-9a-f]{8}(?:[0-9a-f]{9})?")
REGION_RE = re.compile(r"[a-z]{2}(?:-[a-z]+)+-[0-9]")
# Characters that cannot appear in an XML 1.0 document.
NON_XML_CHAR_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
AMZ_DATE_RE = re.compile(r"[0-9]{8}T[0-9]{6}Z")
AUTHORIZATION_RE = re.compile(
    r"AWS4-HMAC-SHA256 Credential=(?P<akid>[^/\s,]+)/(?P<date>[0-9]{8})/"
    r"(?P<region>[^/\s,]+)/(?P<service>[^/\s,]+)/aws4_request,\s*"
    r"SignedHeaders=(?P<signed_headers>[^\s,]+),\s*"
    r"Signature=(?P<signature>[0-9a-f]{64})"
)

FILTER_NAME_RE = re.compile(r"Filter\.([1-9][0-9]*)\.Name")
FILTER_VALUE_RE = re.compile(r"Filter\.([1-9][0-9]*)\.Value\.([1-9][0-9]*)")
INSTANCE_ID_PARAM_RE = re.compile(r"InstanceId\.([1-9][0-9]*)")

# Pagination tokens start with these bytes, which base64-encode to
# "++++////", and are padded so they end in "=": a client that does not
# percent-encode NextToken in the form body loses its "+" signs and gets
# InvalidParameterValue.
TOKEN_PREFIX = b"\xfb\xef\xbe\xff\xff\xff"
TOKEN_MAC_LENGTH = 16


class FleetError(Exception):
    """The fleet file or a --cred option is not valid."""


class ApiError(Exception):
    """An EC2 API error, answered as an AWS error document."""

    def __init__(self, status, code, message):
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


class AuthError(Exception):
    """A request failed SigV4 verification.

    `reason` and `detail` go to the log only; the client gets `client_message`.
    """

    def __init__(self, reason, detail="", client_message=AUTH_FAILURE_MESSAGE,
                 bad_key=False):
        super().__init__(reason)
        self.reason = reason
        self.detail = detail
        self.client_message = client_message
        self.bad_key = bad_key  # unknown key or token (STS: InvalidClientTokenId)


# --------------------------------------------------------------------------
# Fleet


def _derived_id(prefix, seed, length=17):
    """A stable AWS-looking id such as "vpc-0123..." derived from `seed`."""
    return prefix + hashlib.sha256((prefix + seed).encode()).hexdigest()[:length]


def _private_dns_name(ip, region):
    host = "ip-" + ip.replace(".", "-")
    if region == "us-east-1":
        return host + ".ec2.internal"
    return f"{host}.{region}.compute.internal"


def _public_dns_name(ip, region):
    host = "ec2-" + ip.replace(".", "-")
    if region == "us-east-1":
        return host + ".compute-1.amazonaws.com"
    return f"{host}.{region}.compute.amazonaws.com"


def _check_text(value, where):
    if not isinstance(value, str):
        raise FleetError(f"{where}: expected a string, got {value!r}")
    if NON_XML_CHAR_RE.search(value):
        raise FleetError(f"{where}: {value!r} holds a character XML cannot carry")
    return value


def _optional_text(raw, key, where, default):
    value = raw.get(key, default)
    return default if value is None else _check_text(value, f"{where}.{key}")


def _pairs(raw, key, where):
    """Validate an ordered list of [first, second] string pairs."""
    pairs = raw.get(key) or []
    if not isinstance(pairs, list):
        raise FleetError(f"{where}.{key}: expected a list of pairs")
    result = []
    for n, pair in enumerate(pairs):
        if not (isinstance(pair, list) and len(pair) == 2):
            raise FleetError(f"{where}.{key}[{n}]: expected a [x, y] pair")
        result.append((_check_text(pair[0], f"{where}.{key}[{n}][0]"),
                       _check_text(pair[1], f"{where}.{key}[{n}][1]")))
    return result


INSTANCE_KEYS = {
    "id", "state", "type", "image", "az", "vpc", "subnet", "private_ip",
    "private_dns", "public_ip", "public_dns", "launch_time", "groups", "tags",
    "reservation",
}


def normalize_instance(raw, region, where):
    """Validate one fleet instance and fill in the defaults."""
    if not isinstance(raw, dict):
        raise FleetError(f"{where}: expected an object")
    unknown = set(raw) - INSTANCE_KEYS
    if unknown:
        raise FleetError(f"{where}: unknown keys {sorted(unknown)}")
    instance_id = raw.get("id")
    if not isinstance(instance_id, str) or not INSTANCE_ID_RE.fullmatch(instance_id):
        raise FleetError(f"{where}.id: {instance_id!r} is not an instance id")
    where = f"{where} ({instance_id})"
    state = raw.get("state", "running")
    if state not in STATE_CODES:
        raise FleetError(f"{where}.state: {state!r} is not one of {sorted(STATE_CODES)}")

    digest = hashlib.sha256(instance_id.encode()).digest()
    networked = state != "terminated"
    default_ip = f"10.0.{digest[0]}.{1 + digest[1] % 254}" if networked else None
    private_ip = _optional_text(raw, "private_ip", where, default_ip)
    public_ip = _optional_text(raw, "public_ip", where, None)
    tags = _pairs(raw, "tags", where)
    tag_keys = [key for key, _ in tags]
    if len(set(tag_keys)) != len(tag_keys) or "" in tag_keys:
        raise FleetError(f"{where}.tags: keys must be unique and non-empty")
    suffix = instance_id[2:]
    return {
        "id": instance_id,
        "state": state,
        "type": _optional_text(raw, "type", where, "t3.micro"),
        "image": _optional_text(raw, "image", where, _derived_id("ami-", instance_id)),
        "az": _optional_text(raw, "az", where, region + "a"),
        "vpc": _optional_text(raw, "vpc", where,
                              _derived_id("vpc-", region) if networked else None),
        "subnet": _optional_text(raw, "subnet", where,
                                 _derived_id("subnet-", region) if networked else None),
        "private_ip": private_ip,
        "private_dns": _optional_text(
            raw, "private_dns", where,
            _private_dns_name(private_ip, region) if private_ip else ""),
        "public_ip": public_ip,
        "public_dns": _optional_text(
            raw, "public_dns", where,
            _public_dns_name(public_ip, region) if public_ip else ""),
        "launch_time": _optional_text(raw, "launch_time", where,
                                      "2026-01-01T00:00:00.000Z"),
        "groups": _pairs(raw, "groups", where),
        "tags": tags,
        "reservation": _optional_text(raw, "reservation", where, "r-" + suffix),
        "eni": "eni-" + suffix,
        "volume": "vol-" + suffix,
        "mac": "02:" + ":".join(f"{b:02x}" for b in digest[2:7]),
    }


def _normalize_imds(raw, regions):
    if raw is None:
        return None
    required = ("instance_id", "region", "availability_zone")
    if not isinstance(raw, dict) or any(key not in raw for key in required):
        raise FleetError(f"imds: needs at least {list(required)}")
    unknown = set(raw) - set(required) - {"role", "credentials"}
    if unknown:
        raise FleetError(f"imds: unknown keys {sorted(unknown)}")
    imds = {key: _check_text(raw[key], f"imds.{key}") for key in required}
    imds["instance"] = next(
        (i for i in regions.get(imds["region"], []) if i["id"] == imds["instance_id"]),
        None)
    role, credentials = raw.get("role"), raw.get("credentials")
    if (role is None) != (credentials is None):
        raise FleetError("imds: give both 'role' and 'credentials', or neither")
    if role is not None:
        _check_text(role, "imds.role")
        fields = ("AccessKeyId", "SecretAccessKey", "Token", "Expiration")
        if not isinstance(credentials, dict) or set(credentials) != set(fields):
            raise FleetError(f"imds.credentials: needs exactly {list(fields)}")
        for field in fields:
            _check_text(credentials[field], f"imds.credentials.{field}")
    imds["role"] = role
    imds["credentials"] = credentials
    return imds


def load_fleet(path):
    """Read and validate a fleet file.

    Returns a dict with "regions" ({region: [instance]}), "imds" (or None)
    and "creds" ([(access_key, secret_key, token)]).
    """
    try:
        with open(path, encoding="utf-8") as f:
            raw = json.load(f)
    except (OSError, ValueError) as e:
        raise FleetError(f"{path}: {e}") from e
    if not isinstance(raw, dict):
        raise FleetError(f"{path}: expected a JSON object")
    unknown = set(raw) - {"comment", "creds", "imds", "regions", "accounts"}
    if unknown:
        raise FleetError(f"{path}: unknown keys {sorted(unknown)}")

    regions = _load_regions(raw.get("regions"), "regions", OWNER_ID)
    accounts = _load_accounts(raw.get("accounts"), regions)

    creds = []
    for n, cred in enumerate(raw.get("creds") or []):
        if not isinstance(cred, dict) or set(cred) - {"access_key", "secret_key", "token"}:
            raise FleetError(f"creds[{n}]: expected access_key, secret_key, token")
        token = cred.get("token")
        creds.append((_check_text(cred.get("access_key"), f"creds[{n}].access_key"),
                      _check_text(cred.get("secret_key"), f"creds[{n}].secret_key"),
                      None if token is None else _check_text(token, f"creds[{n}].token")))

    imds = _normalize_imds(raw.get("imds"), regions)
    if imds and imds["credentials"]:
        c = imds["credentials"]
        creds.append((c["AccessKeyId"], c["SecretAccessKey"], c["Token"]))
    return {"regions": regions, "imds": imds, "creds": creds, "accounts": accounts}


def _load_regions(raw, where, account):
    """{region: [instance]} of one account, each instance owned by it."""
    if raw is not None and not isinstance(raw, dict):
        raise FleetError(f"{where}: expected an object of regions")
    regions = {}
    for region, instances in (raw or {}).items():
        if not REGION_RE.fullmatch(region) or not isinstance(instances, list):
            raise FleetError(f"{where}.{region}: expected a region name and a list")
        normalized = [normalize_instance(inst, region, f"{where}.{region}[{n}]")
                      for n, inst in enumerate(instances)]
        ids = [i["id"] for i in normalized]
        if len(set(ids)) != len(ids):
            raise FleetError(f"{where}.{region}: duplicate instance ids")
        for i in normalized:
            i["owner"] = account
        regions[region] = normalized
    return regions


def _load_accounts(raw, default_regions):
    """{account: {"regions", "roles"}}, the default account included."""
    accounts = {OWNER_ID: {"regions": default_regions, "roles": {}}}
    if raw is None:
        return accounts
    if not isinstance(raw, dict):
        raise FleetError("accounts: expected an object")
    for account, body in raw.items():
        where = f"accounts.{account}"
        if not ACCOUNT_RE.fullmatch(account) or not isinstance(body, dict):
            raise FleetError(f"{where}: expected a 12-digit account id and an object")
        unknown = set(body) - {"regions", "roles"}
        if unknown:
            raise FleetError(f"{where}: unknown keys {sorted(unknown)}")
        if account == OWNER_ID and "regions" in body:
            raise FleetError(f"{where}: the default account's regions are the "
                             "top-level \"regions\"")
        regions = default_regions if account == OWNER_ID else \
            _load_regions(body.get("regions"), f"{where}.regions", account)
        roles = {}
        for arn, role in (body.get("roles") or {}).items():
            match = ROLE_ARN_RE.fullmatch(arn)
            if not match or match["account"] != account:
                raise FleetError(f"{where}.roles: {arn!r} is not a role ARN of {account}")
            if not isinstance(role, dict) or set(role) - {"trust", "external_id",
                                                          "max_session"}:
                raise FleetError(f"{where}.roles.{arn}: expected trust, external_id, "
                                 "max_session")
            trust = role.get("trust") or []
            if not isinstance(trust, list):
                raise FleetError(f"{where}.roles.{arn}.trust: expected a list")
            external_id = role.get("external_id")
            if external_id is not None:
                _check_text(external_id, f"{where}.roles.{arn}.external_id")
            max_session = role.get("max_session", 3600)
            if type(max_session) is not int or not 3600 <= max_session <= 43200:
                raise FleetError(f"{where}.roles.{arn}.max_session: 3600..43200")
            roles[arn] = {"trust": [_check_text(t, f"{where}.roles.{arn}.trust")
                                    for t in trust],
                          "external_id": external_id, "max_session": max_session,
                          "name": match["name"], "account": account}
        accounts[account] = {"regions": regions, "roles": roles}
    return accounts


def parse_cred_option(text):
    """Parse "AKID:SECRET[:TOKEN]" into (akid, secret, token or None)."""
    parts = text.split(":", 2)
    if len(parts) < 2 or not parts[0] or not parts[1]:
        raise argparse.ArgumentTypeError("expected AKID:SECRET[:TOKEN]")
    return parts[0], parts[1], (parts[2] if len(parts) == 3 and parts[2] else None)


def build_credential_table(creds):
    """Map access key id -> (secret, token), refusing conflicting duplicates."""
    table = {}
    for akid, secret, token in creds:
        if table.get(akid, (secret, token)) != (secret, token):
            raise FleetError(f"access key {akid} is given twice with different secrets")
        table[akid] = (secret, token)
    return table


# --------------------------------------------------------------------------
# SigV4 verification


@dataclass
class SignedScope:
    """What a verified Authorization header says about the request."""
    access_key: str
    region: str
    service: str
    signed_headers: str


class ListedHeadersSigV4Auth(SigV4Auth):
    """botocore's SigV4 signer, signing exactly the headers of the request.

    Stock botocore never signs expect, user-agent or x-amzn-trace-id and adds
    host when it is missing.  AWS checks whatever SignedHeaders lists, so a
    client may sign those; verify_sigv4 passes in only the listed headers.
    """

    def headers_to_sign(self, request):
        headers = HTTPHeaders()
        for name, value in request.headers.items():
            headers[name.lower()] = value  # appends repeated names
        return headers


def redact_canonical_request(canonical):
    """Hide the session token in a canonical request before logging it."""
    return re.sub(r"(?m)^(x-amz-security-token:).*$", r"\1<redacted>", canonical)


def verify_sigv4(method, target, headers, body, credentials):
    """Check a request's SigV4 Authorization header with botocore's signer.

    `target` is the request target (path and query), `headers` an
    http.client.HTTPMessage, `credentials` maps access key id to
    (secret, token).  Returns a SignedScope, or raises AuthError.
    """
    authorizations = headers.get_all("Authorization") or []
    if len(authorizations) != 1:
        raise AuthError(f"expected one Authorization header, got {len(authorizations)}")
    match = AUTHORIZATION_RE.fullmatch(authorizations[0].strip())
    if not match:
        raise AuthError(f"malformed Authorization header: {authorizations[0]!r}")
    akid, scope_date, region, service, signed_headers, signature = match.group(
        "akid", "date", "region", "service", "signed_headers", "signature")

    if akid not in credentials:
        raise AuthError(f"unknown access key id {akid!r}", bad_key=True)
    secret, token = credentials[akid]

    amz_date = headers.get("X-Amz-Date", "")
    if not AMZ_DATE_RE.fullmatch(amz_date):
        raise AuthError(f"X-Amz-Date {amz_date!r} is missing or not YYYYMMDDTHHMMSSZ")
    if scope_date != amz_date[:8]:
        raise AuthError(f"credential scope date {scope_date} is not the X-Amz-Date "
                        f"date {amz_date[:8]}")

    names = signed_headers.split(";")
    for required in ("host", "x-amz-date"):
        if required not in names:
            raise AuthError(f"SignedHeaders {signed_headers!r} does not include {required!r}")
    sent_token = headers.get("X-Amz-Security-Token")
    if token is not None:
        if sent_token is None or not hmac.compare_digest(sent_token, token):
            raise AuthError(f"X-Amz-Security-Token missing or wrong for {akid}",
                            client_message=INVALID_TOKEN_MESSAGE, bad_key=True)
        if "x-amz-security-token" not in names:
            raise AuthError("X-Amz-Security-Token is not in SignedHeaders")
    elif sent_token is not None:
        raise AuthError(f"X-Amz-Security-Token sent with long-term key {akid}",
                        client_message=INVALID_TOKEN_MESSAGE, bad_key=True)

    request = AWSRequest(method=method, url=f"http://{headers.get('Host', '')}{target}",
                         data=body)
    for name in names:
        values = headers.get_all(name)
        if values is None:
            raise AuthError(f"signed header {name!r} is not in the request")
        for value in values:
            request.headers[name] = value  # HTTPHeaders appends repeated names
    if "x-amz-content-sha256" in names:
        # botocore would take the payload hash from this header unchecked.
        if request.headers["x-amz-content-sha256"] != hashlib.sha256(body).hexdigest():
            raise AuthError("X-Amz-Content-SHA256 is not the SHA-256 of the body")
    request.context["timestamp"] = amz_date

    signer = ListedHeadersSigV4Auth(Credentials(akid, secret, token), service, region)
    try:
        canonical = signer.canonical_request(request)
    except ValueError as e:  # e.g. a Host header urlsplit cannot parse
        raise AuthError(f"cannot build the canonical request: {e}") from None
    canonical_names = signer.signed_headers(signer.headers_to_sign(request))
    if canonical_names != signed_headers:
        raise AuthError(
            f"SignedHeaders {signed_headers!r} is not in canonical form "
            f"({canonical_names!r}): lower case, sorted, no repeats",
            detail=redact_canonical_request(canonical))
    string_to_sign = signer.string_to_sign(request, canonical)
    expected = signer.signature(string_to_sign, request)
    if not hmac.compare_digest(expected, signature):
        raise AuthError(
            f"signature mismatch for {akid}: got {signature}, botocore computes {expected}",
            detail=(f"canonical request:\n{redact_canonical_request(canonical)}\n"
                    f"string to sign:\n{string_to_sign}"))
    return SignedScope(akid, region, service, signed_headers)


# --------------------------------------------------------------------------
# DescribeInstances


def _non_empty(*values):
    return [v for v in values if v]


FILTER_FIELDS = {
    "instance-state-name": lambda i: [i["state"]],
    "instance-id": lambda i: [i["id"]],
    "private-dns-name": lambda i: _non_empty(i["private_dns"]),
    "private-ip-address": lambda i: _non_empty(i["private_ip"]),
    "network-interface.addresses.private-ip-address": lambda i: _non_empty(i["private_ip"]),
    "dns-name": lambda i: _non_empty(i["public_dns"]),
    "ip-address": lambda i: _non_empty(i["public_ip"]),
    "vpc-id": lambda i: _non_empty(i["vpc"]),
    "subnet-id": lambda i: _non_empty(i["subnet"]),
    "availability-zone": lambda i: [i["az"]],
    "instance-type": lambda i: [i["type"]],
    "image-id": lambda i: [i["image"]],
    "instance.group-name": lambda i: [name for _, name in i["groups"]],
    "group-name": lambda i: [name for _, name in i["groups"]],
    "instance.group-id": lambda i: [gid for gid, _ in i["groups"]],
    "group-id": lambda i: [gid for gid, _ in i["groups"]],
    "tag-key": lambda i: [key for key, _ in i["tags"]],
}


def wildcard_regex(pattern):
    """Compile an EC2 filter value: * and ? are wildcards, backslash escapes."""
    parts = []
    chars = iter(pattern)
    for c in chars:
        if c == "\\":
            parts.append(re.escape(next(chars, "\\")))
        elif c == "*":
            parts.append(".*")
        elif c == "?":
            parts.append(".")
        else:
            parts.append(re.escape(c))
    return re.compile("".join(parts), re.DOTALL)


def filter_field(name):
    """The function listing an instance's values for filter `name`."""
    if name.startswith("tag:") and len(name) > 4:
        key = name[4:]
        return lambda i: [value for k, value in i["tags"] if k == key]
    if name in FILTER_FIELDS:
        return FILTER_FIELDS[name]
    raise ApiError(400, "InvalidParameterValue", f"The filter '{name}' is invalid")


@dataclass
class DescribeRequest:
    """The parsed parameters of a DescribeInstances call."""
    filters: list        # [(name, [values])] in parameter order
    instance_ids: list
    max_results: int
    next_token: str
    dry_run: bool

    def scope_digest(self, region):
        """Identifies the result set, so tokens only work for the same query."""
        canonical = json.dumps([region, sorted((n, sorted(v)) for n, v in self.filters),
                                sorted(self.instance_ids)])
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def parse_describe_request(params):
    """Validate DescribeInstances parameters into a DescribeRequest."""
    filter_names, filter_values, ids = {}, collections.defaultdict(dict), {}
    for key, value in params.items():
        if key in ("Action", "Version", "MaxResults", "NextToken", "DryRun"):
            continue
        if m := FILTER_NAME_RE.fullmatch(key):
            filter_names[int(m[1])] = value
        elif m := FILTER_VALUE_RE.fullmatch(key):
            filter_values[int(m[1])][int(m[2])] = value
        elif m := INSTANCE_ID_PARAM_RE.fullmatch(key):
            ids[int(m[1])] = value
        else:
            raise ApiError(400, "UnknownParameter", f"The parameter {key} is not recognized")

    filters = []
    for index in sorted(set(filter_names) | set(filter_values)):
        if index not in filter_names:
            raise ApiError(400, "InvalidParameterValue", "The filter 'null' is invalid")
        name = filter_names[index]
        if not filter_values.get(index):
            raise ApiError(400, "InvalidParameterValue",
                           f"The filter '{name}' requires at least one value")
        filter_field(name)  # rejects unknown names
        filters.append((name, [filter_values[index][n] for n in sorted(filter_values[index])]))

    instance_ids = list(dict.fromkeys(ids[n] for n in sorted(ids)))
    for instance_id in instance_ids:
        if not INSTANCE_ID_RE.fullmatch(instance_id):
            raise ApiError(400, "InvalidInstanceID.Malformed", f'Invalid id: "{instance_id}"')

    max_results = params.get("MaxResults")
    if max_results is not None:
        if not re.fullmatch(r"[0-9]{1,9}", max_results) or not 5 <= int(max_results) <= 1000:
            raise ApiError(400, "InvalidParameterValue",
                           f"Value ( {max_results} ) for parameter maxResults is invalid. "
                           "Expecting a value between 5 and 1000.")
        if instance_ids:
            raise ApiError(400, "InvalidParameterCombination",
                           "The parameter instancesSet cannot be used with the parameter "
                           "maxResults")
        max_results = int(max_results)

    dry_run = params.get("DryRun", "false").lower()
    if dry_run not in ("true", "false"):
        raise ApiError(400, "InvalidParameterValue", "DryRun must be true or false")
    return DescribeRequest(filters, instance_ids, max_results, params.get("NextToken"),
                           dry_run == "true")


def select_instances(fleet_instances, request):
    """The instances of one region matching the request, in fleet order."""
    known = {i["id"] for i in fleet_instances}
    missing = [i for i in request.instance_ids if i not in known]
    if missing:
        noun = "ID" if len(missing) == 1 else "IDs"
        verb = "does" if len(missing) == 1 else "do"
        raise ApiError(400, "InvalidInstanceID.NotFound",
                       f"The instance {noun} '{', '.join(missing)}' {verb} not exist")
    tests = [(filter_field(name), [wildcard_regex(v) for v in values])
             for name, values in request.filters]

    def matches(instance):
        if request.instance_ids and instance["id"] not in request.instance_ids:
            return False
        return all(any(p.fullmatch(v) for v in field(instance) for p in patterns)
                   for field, patterns in tests)

    return [i for i in fleet_instances if matches(i)]


def encode_page_token(key, offset, scope):
    """An opaque, MAC-protected NextToken for `offset` in result set `scope`."""
    payload = json.dumps([offset, scope]).encode()
    if (len(TOKEN_PREFIX) + TOKEN_MAC_LENGTH + len(payload)) % 3 == 0:
        payload += b" "  # make the base64 end in "="
    mac = hmac.new(key, payload, hashlib.sha256).digest()[:TOKEN_MAC_LENGTH]
    return base64.b64encode(TOKEN_PREFIX + mac + payload).decode()


def decode_page_token(key, token, scope):
    """The offset in a NextToken, or ApiError if it is not ours or not for `scope`."""
    invalid = ApiError(400, "InvalidParameterValue",
                       f"The value supplied for parameter 'NextToken' is not valid: {token!r}")
    try:
        raw = base64.b64decode(token, validate=True)
    except (binascii.Error, ValueError):
        raise invalid from None
    split = len(TOKEN_PREFIX) + TOKEN_MAC_LENGTH
    head, payload = raw[:split], raw[split:]
    mac = hmac.new(key, payload, hashlib.sha256).digest()[:TOKEN_MAC_LENGTH]
    if not hmac.compare_digest(head, TOKEN_PREFIX + mac):
        raise invalid
    offset, token_scope = json.loads(payload)
    if token_scope != scope:
        raise ApiError(400, "InvalidParameterValue",
                       "The NextToken was issued for a request with different parameters")
    return offset


# --------------------------------------------------------------------------
# XML


def serialize_xml(element, indent="    "):
    """Serialize an ElementTree element the way AWS does.

    Unlike ElementTree, an element whose text is None is written <x/> while
    one whose text is "" is written <x></x>, so responses can mix both forms.
    Text is escaped with saxutils, including quotes.  With `indent`, children
    are pretty-printed as in real EC2 responses.
    """
    out = ['<?xml version="1.0" encoding="UTF-8"?>\n']

    def write(elem, depth):
        attrs = "".join(f" {name}={quoteattr(value)}" for name, value in elem.attrib.items())
        if elem.text is None and len(elem) == 0:
            out.append(f"<{elem.tag}{attrs}/>")
            return
        out.append(f"<{elem.tag}{attrs}>")
        if elem.text:
            out.append(escape(elem.text, {'"': "&quot;", "'": "&apos;"}))
        for child in elem:
            if indent is not None:
                out.append("\n" + indent * (depth + 1))
            write(child, depth + 1)
        if indent is not None and len(elem):
            out.append("\n" + indent * depth)
        out.append(f"</{elem.tag}>")

    write(element, 0)
    return "".join(out).encode("utf-8")


def _sub(parent, tag, text=None):
    """Add a child element; text None gives <tag/>, "" gives <tag></tag>."""
    child = ET.SubElement(parent, tag)
    child.text = text
    return child


def _add_group_set(parent, groups):
    group_set = _sub(parent, "groupSet")
    for group_id, group_name in groups:
        item = _sub(group_set, "item")
        _sub(item, "groupId", group_id)
        _sub(item, "groupName", group_name)


def _add_association(parent, instance):
    association = _sub(parent, "association")
    _sub(association, "publicIp", instance["public_ip"])
    _sub(association, "publicDnsName", instance["public_dns"] or None)
    _sub(association, "ipOwnerId", "amazon")


def _add_network_interface(parent, instance):
    item = _sub(_sub(parent, "networkInterfaceSet"), "item")
    _sub(item, "networkInterfaceId", instance["eni"])
    _sub(item, "subnetId", instance["subnet"])
    _sub(item, "vpcId", instance["vpc"])
    _sub(item, "description")
    _sub(item, "ownerId", instance.get("owner", OWNER_ID))
    _sub(item, "status", "in-use")
    _sub(item, "macAddress", instance["mac"])
    _sub(item, "privateIpAddress", instance["private_ip"])
    _sub(item, "privateDnsName", instance["private_dns"] or None)
    _sub(item, "sourceDestCheck", "true")
    _add_group_set(item, instance["groups"])
    attachment = _sub(item, "attachment")
    _sub(attachment, "attachmentId", "eni-attach-" + instance["id"][2:])
    _sub(attachment, "deviceIndex", "0")
    _sub(attachment, "status", "attached")
    _sub(attachment, "attachTime", instance["launch_time"])
    _sub(attachment, "deleteOnTermination", "true")
    if instance["public_ip"]:
        _add_association(item, instance)
    address = _sub(_sub(item, "privateIpAddressesSet"), "item")
    _sub(address, "privateIpAddress", instance["private_ip"])
    _sub(address, "privateDnsName", instance["private_dns"] or None)
    _sub(address, "primary", "true")
    if instance["public_ip"]:
        _add_association(address, instance)
    _sub(item, "ipv6AddressesSet")
    _sub(item, "interfaceType", "interface")


def _add_instance(parent, instance):
    """Append one instancesSet <item>, laid out as in the EC2 API reference."""
    item = _sub(parent, "item")
    state = instance["state"]
    stopped = state in ("stopping", "stopped", "shutting-down", "terminated")
    _sub(item, "instanceId", instance["id"])
    _sub(item, "imageId", instance["image"])
    state_element = _sub(item, "instanceState")
    _sub(state_element, "code", str(STATE_CODES[state]))
    _sub(state_element, "name", state)
    _sub(item, "privateDnsName", instance["private_dns"] or None)
    _sub(item, "dnsName", instance["public_dns"] or None)
    _sub(item, "reason",
         f"User initiated ({instance['launch_time'][:10]} 12:00:00 GMT)" if stopped else None)
    _sub(item, "amiLaunchIndex", "0")
    _sub(item, "productCodes")
    _sub(item, "instanceType", instance["type"])
    _sub(item, "launchTime", instance["launch_time"])
    placement = _sub(item, "placement")
    _sub(placement, "availabilityZone", instance["az"])
    _sub(placement, "groupName")
    _sub(placement, "tenancy", "default")
    _sub(_sub(item, "monitoring"), "state", "disabled")
    if instance["subnet"]:
        _sub(item, "subnetId", instance["subnet"])
    if instance["vpc"]:
        _sub(item, "vpcId", instance["vpc"])
    if instance["private_ip"]:
        _sub(item, "privateIpAddress", instance["private_ip"])
    if instance["public_ip"]:
        _sub(item, "ipAddress", instance["public_ip"])
    _sub(item, "sourceDestCheck", "true")
    _add_group_set(item, instance["groups"])
    if stopped:
        # A second <code>/<message> pair, to trip parsers that ignore paths.
        reason = _sub(item, "stateReason")
        _sub(reason, "code", "Client.UserInitiatedShutdown")
        _sub(reason, "message", "Client.UserInitiatedShutdown: User initiated shutdown")
    _sub(item, "architecture", "x86_64")
    _sub(item, "rootDeviceType", "ebs")
    _sub(item, "rootDeviceName", "/dev/xvda")
    mappings = _sub(item, "blockDeviceMapping")
    if state != "terminated":
        mapping = _sub(mappings, "item")
        _sub(mapping, "deviceName", "/dev/xvda")
        ebs = _sub(mapping, "ebs")
        _sub(ebs, "volumeId", instance["volume"])
        _sub(ebs, "status", "attached")
        _sub(ebs, "attachTime", instance["launch_time"])
        _sub(ebs, "deleteOnTermination", "true")
    _sub(item, "virtualizationType", "hvm")
    _sub(item, "clientToken")
    if instance["tags"]:
        tag_set = _sub(item, "tagSet")
        for n, (key, value) in enumerate(instance["tags"]):
            tag = _sub(tag_set, "item")
            _sub(tag, "key", key)
            # Empty values alternate between <value/> and <value></value>.
            _sub(tag, "value", value or (None if n % 2 == 0 else ""))
    _sub(item, "hypervisor", "xen")
    if instance["private_ip"]:
        _add_network_interface(item, instance)
    else:
        _sub(item, "networkInterfaceSet")
    _sub(item, "ebsOptimized", "false")


def render_describe_response(instances, next_token, request_id, namespace):
    """A DescribeInstancesResponse document for one page of instances."""
    root = ET.Element("DescribeInstancesResponse", {"xmlns": namespace})
    _sub(root, "requestId", request_id)
    reservation_set = _sub(root, "reservationSet")
    reservations = {}
    for instance in instances:
        rid = instance["reservation"]
        if rid not in reservations:
            reservation = _sub(reservation_set, "item")
            _sub(reservation, "reservationId", rid)
            _sub(reservation, "ownerId", instance.get("owner", OWNER_ID))
            # Deliberately not the instances' groups: clients must read
            # instancesSet/item/groupSet, not any groupSet.
            _add_group_set(reservation, [("sg-reservation", "reservation-level-group")])
            reservations[rid] = _sub(reservation, "instancesSet")
        _add_instance(reservations[rid], instance)
    if next_token:
        _sub(root, "nextToken", next_token)
    return serialize_xml(root)


def render_error(code, message, request_id):
    """An EC2 error document (no namespace, one line, as AWS sends it)."""
    root = ET.Element("Response")
    error = _sub(_sub(root, "Errors"), "Error")
    _sub(error, "Code", code)
    _sub(error, "Message", message)
    _sub(root, "RequestID", request_id)
    return serialize_xml(root, indent=None)


def render_sts_error(code, message, request_id, kind="Sender"):
    """An STS error document, as STS sends it."""
    root = ET.Element("ErrorResponse", {"xmlns": STS_NAMESPACE})
    error = _sub(root, "Error")
    _sub(error, "Type", kind)
    _sub(error, "Code", code)
    _sub(error, "Message", message)
    _sub(root, "RequestId", request_id)
    return serialize_xml(root)


def render_assume_role(assumed_arn, role_id, creds, request_id):
    """An AssumeRoleResponse document; creds is the issued dict."""
    root = ET.Element("AssumeRoleResponse", {"xmlns": STS_NAMESPACE})
    result = _sub(root, "AssumeRoleResult")
    user = _sub(result, "AssumedRoleUser")
    _sub(user, "AssumedRoleId", role_id)
    _sub(user, "Arn", assumed_arn)
    credentials = _sub(result, "Credentials")
    _sub(credentials, "AccessKeyId", creds["access_key"])
    _sub(credentials, "SecretAccessKey", creds["secret_key"])
    _sub(credentials, "SessionToken", creds["token"])
    _sub(credentials, "Expiration", creds["expiration"])
    _sub(_sub(root, "ResponseMetadata"), "RequestId", request_id)
    return serialize_xml(root)


# STS's codes for the EC2 fault kinds that answer with an error document.
STS_FAULT_ERRORS = {
    "throttle": (400, "Throttling", "Rate exceeded"),
    "error500": (500, "InternalFailure", "An internal error has occurred"),
    "xml_error": (400, "ValidationError", "injected validation fault"),
    "auth_failure": (403, "InvalidClientTokenId", INVALID_TOKEN_MESSAGE),
    "unauthorized": (403, "AccessDenied", "injected access denial"),
    "expired_token": (400, "ExpiredTokenException",
                      "The security token included in the request is expired"),
    "error_in_200": (200, "InternalFailure", "An internal error has occurred"),
}


# --------------------------------------------------------------------------
# IMDS


def imds_html(status, reason):
    """The small HTML page IMDS sends with error statuses."""
    title = escape(f"{status} - {reason}")
    return (f'<?xml version="1.0" encoding="iso-8859-1"?>\n<!DOCTYPE html>\n'
            f"<html><head><title>{title}</title></head>"
            f"<body><h1>{title}</h1></body></html>\n").encode()


def imds_document(imds, path):
    """The IMDS answer for `path`, or None for 404."""
    if imds is None:
        return None
    role, instance = imds["role"], imds["instance"] or {}
    documents = {
        "/latest/meta-data/instance-id": imds["instance_id"],
        "/latest/meta-data/placement/region": imds["region"],
        "/latest/meta-data/placement/availability-zone": imds["availability_zone"],
        "/latest/dynamic/instance-identity/document": json.dumps({
            "accountId": OWNER_ID,
            "architecture": "x86_64",
            "availabilityZone": imds["availability_zone"],
            "imageId": instance.get("image"),
            "instanceId": imds["instance_id"],
            "instanceType": instance.get("type"),
            "privateIp": instance.get("private_ip"),
            "region": imds["region"],
            "version": "2017-09-30",
        }, indent=2),
    }
    if role is not None:
        for listing in ("/latest/meta-data/iam/security-credentials",
                        "/latest/meta-data/iam/security-credentials/"):
            documents[listing] = role
        documents["/latest/meta-data/iam/security-credentials/" + role] = json.dumps({
            "Code": "Success",
            "LastUpdated": datetime.datetime.now(datetime.timezone.utc)
                                   .strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Type": "AWS-HMAC",
            **imds["credentials"],
        }, indent=2)
    return documents.get(path)


# --------------------------------------------------------------------------
# Server state


@dataclass
class Fault:
    """A queued fault: applies to the next `remaining` requests (-1: forever)."""
    target: str
    kind: str
    remaining: int
    delay: float
    size: int


class ServerState:
    """Everything the request handlers share, guarded by one lock."""

    def __init__(self, fleet, credentials):
        self.fleet = fleet
        self.credentials = credentials
        self.token_key = secrets.token_bytes(32)
        self.lock = threading.Lock()
        self.imds_tokens = {}  # token -> expiry (time.monotonic())
        self.reset()

    def reset(self):
        """Forget faults, statistics and configuration."""
        with self.lock:
            self.faults = {"ec2": collections.deque(), "sts": collections.deque(),
                           "imds": collections.deque()}
            self.page_size = None
            self.namespace = DEFAULT_NAMESPACE
            self.hidden = frozenset()
            self.ec2_requests = 0
            self.sts_requests = 0
            self.issued = {}  # access key id -> issued STS credentials
            self.imds_requests = 0
            self.auth_failures = 0
            self.actions = collections.Counter()
            self.history = collections.deque(maxlen=HISTORY_LENGTH)

    def take_fault(self, target):
        """The fault that applies to this request of `target`, if any."""
        with self.lock:
            queue = self.faults[target]
            if not queue:
                return None
            fault = queue[0]
            if fault.remaining > 0:
                fault.remaining -= 1
                if fault.remaining == 0:
                    queue.popleft()
            return fault

    def record(self, entry):
        """Count an EC2 or IMDS request as it arrives.

        The handler fills in entry["status"] when it has answered, so a
        request that is still hanging is counted, with status None.
        """
        with self.lock:
            if entry["target"] in ("ec2", "sts"):
                if entry["target"] == "ec2":
                    self.ec2_requests += 1
                else:
                    self.sts_requests += 1
                if entry.get("action"):
                    self.actions[entry["action"]] += 1
            else:
                self.imds_requests += 1
            self.history.append(entry)

    def count_auth_failure(self):
        with self.lock:
            self.auth_failures += 1

    def stats(self):
        with self.lock:
            return {
                "ec2_requests": self.ec2_requests,
                "sts_requests": self.sts_requests,
                "imds_requests": self.imds_requests,
                "auth_failures": self.auth_failures,
                "actions": dict(self.actions),
                "pending_faults": [
                    {"target": f.target, "kind": f.kind, "remaining": f.remaining}
                    for queue in self.faults.values() for f in queue],
                "requests": [dict(entry) for entry in self.history],
            }

    def signing_credentials(self):
        """access key id -> (secret, token): the fixed ones and those STS issued."""
        with self.lock:
            table = dict(self.credentials)
            table.update({k: (c["secret_key"], c["token"]) for k, c in self.issued.items()})
        return table

    def account_of(self, access_key):
        """The account an access key id belongs to."""
        with self.lock:
            issued = self.issued.get(access_key)
        return issued["account"] if issued else OWNER_ID

    def caller(self, access_key):
        """(ARN, role ARN or None) of whoever signs with access_key."""
        with self.lock:
            issued = self.issued.get(access_key)
        if issued:
            return issued["assumed_arn"], issued["role_arn"]
        return f"arn:aws:iam::{OWNER_ID}:user/{access_key}", None

    def issue(self, role_arn, role, session, duration):
        """New temporary credentials for a session of role."""
        with self.lock:
            n = len(self.issued)
            seed = hashlib.sha256(f"{role_arn}|{session}|{n}".encode()).hexdigest()
            expiration = datetime.datetime.now(datetime.timezone.utc) + \
                datetime.timedelta(seconds=duration)
            creds = {
                "access_key": "ASIA" + seed[:16].upper(),
                "secret_key": "stssecret" + seed[16:47],
                "token": "ststoken" + seed[24:64] + "+/=",
                "expiration": expiration.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "account": role["account"],
                "role_arn": role_arn,
                "assumed_arn": f"arn:aws:sts::{role['account']}:assumed-role/"
                               f"{role['name']}/{session}",
            }
            self.issued[creds["access_key"]] = creds
        return creds

    def issue_imds_token(self, ttl):
        token = secrets.token_urlsafe(42)
        now = time.monotonic()
        with self.lock:
            self.imds_tokens = {t: e for t, e in self.imds_tokens.items() if e > now}
            self.imds_tokens[token] = now + ttl
        return token

    def imds_token_valid(self, token):
        with self.lock:
            expiry = self.imds_tokens.get(token or "")
        return expiry is not None and expiry > time.monotonic()


def parse_fault(spec):
    """Validate a /__control/fault body into a Fault."""
    if not isinstance(spec, dict):
        raise ValueError("expected a JSON object")
    unknown = set(spec) - {"kind", "count", "target", "delay", "size"}
    if unknown:
        raise ValueError(f"unknown keys {sorted(unknown)}")
    target = spec.get("target", "ec2")
    kinds = {"ec2": EC2_FAULTS, "sts": EC2_FAULTS, "imds": IMDS_FAULTS}.get(target)
    if kinds is None:
        raise ValueError("target must be 'ec2', 'sts' or 'imds'")
    kind = spec.get("kind")
    if kind not in kinds:
        raise ValueError(f"kind for {target} must be one of {sorted(kinds)}")
    count = spec.get("count", 1)
    if type(count) is not int or not (count == -1 or count >= 1):
        raise ValueError("count must be -1 or a positive integer")
    delay = spec.get("delay", DEFAULT_HANG_SECONDS)
    if type(delay) not in (int, float) or delay < 0:
        raise ValueError("delay must be a non-negative number")
    size = spec.get("size", DEFAULT_HUGE_SIZE)
    if type(size) is not int or size < 0:
        raise ValueError("size must be a non-negative integer")
    return Fault(target, kind, count, float(delay), size)


def is_decimal(text):
    """True for a non-empty string of ASCII digits (str.isdigit takes "²")."""
    return text.isascii() and text.isdigit()


def parse_form(body):
    """Decode a form-encoded body into {name: value}; ApiError on duplicates."""
    try:
        pairs = urllib.parse.parse_qsl(body.decode("utf-8"), keep_blank_values=True,
                                       errors="strict")
    except UnicodeDecodeError:
        raise ApiError(400, "InvalidParameterValue", "The request body is not UTF-8") from None
    params = {}
    for name, value in pairs:
        if name in params:
            raise ApiError(400, "InvalidParameterValue",
                           f"The parameter {name} is given more than once")
        params[name] = value
    return params


# --------------------------------------------------------------------------
# HTTP


class Handler(BaseHTTPRequestHandler):
    """Routes requests to the EC2 API, IMDS or the control API."""

    protocol_version = "HTTP/1.1"

    def version_string(self):
        """The Server header."""
        return "AmazonEC2"

    def log_message(self, fmt, *args):
        LOG.debug("%s %s", self.address_string(), fmt % args)

    @property
    def state(self):
        return self.server.state

    def do_GET(self):
        self._dispatch()

    do_PUT = do_POST = do_GET

    def _dispatch(self):
        try:
            body = self._read_body()
            if body is None:
                return
            path = urllib.parse.urlsplit(self.path).path
            if path.startswith("/__control/"):
                self._control(path, body)
            elif path.startswith("/latest/") and self.command in ("GET", "PUT"):
                self._imds(path)
            elif self.command == "POST":
                self._ec2(body)
            else:
                self._send(404, b"")
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _read_body(self):
        """The request body, or None after answering a framing error."""
        if "Transfer-Encoding" in self.headers:
            self._send(411, b"", close=True)
            return None
        length = self.headers.get("Content-Length", "0")
        if not is_decimal(length):
            self._send(400, b"", close=True)
            return None
        if int(length) > MAX_REQUEST_BODY:
            self._send(413, b"", close=True)
            return None
        return self.rfile.read(int(length))

    def _send_head(self, status, length, content_type=None, headers=(), close=False):
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(length))
        for name, value in headers:
            self.send_header(name, value)
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()

    def _send(self, status, body, content_type=None, headers=(), close=False):
        self._send_head(status, len(body), content_type, headers, close)
        self.wfile.write(body)

    # ---- EC2

    def _ec2(self, body):
        request_id = str(uuid.uuid4())
        match = AUTHORIZATION_RE.search(self.headers.get("Authorization", ""))
        target = "sts" if match and match["service"] == "sts" else "ec2"
        fault = self.state.take_fault(target)
        entry = {"target": target, "action": None, "params": {}, "region": None,
                 "signed_headers": match["signed_headers"] if match else None,
                 "status": None, "fault": fault.kind if fault else None}
        try:
            params = parse_form(body)
            entry["params"], entry["action"] = params, params.get("Action")
        except ApiError as e:
            params = e  # answered after authentication, as AWS does
        self.state.record(entry)
        try:
            if fault and fault.kind in EC2_REPLACING_FAULTS:
                entry["status"] = self._send_ec2_fault(fault, request_id, target)
                return
            if fault and fault.kind == "hang":
                time.sleep(fault.delay)
            status, payload = self._ec2_answer(body, params, request_id, fault, entry)
            entry["status"] = status
            self._send_ec2_body(status, payload, request_id, fault)
        finally:
            LOG.info("%s %s %s action=%s region=%s status=%s fault=%s", target,
                     self.command, self.path, entry["action"], entry["region"],
                     entry["status"], entry["fault"])

    def _ec2_answer(self, body, params, request_id, fault, entry):
        """Authenticate and run the API call: (status, XML body).

        `params` is the parsed form, or the ApiError parsing it raised.
        """
        sts = entry["target"] == "sts"
        try:
            scope = verify_sigv4(self.command, self.path, self.headers, body,
                                 self.state.signing_credentials())
            if scope.service not in ("ec2", "sts"):
                raise AuthError(f"credential scope service is {scope.service!r}, not 'ec2'")
        except AuthError as e:
            LOG.warning("AuthFailure: %s%s", e.reason, "\n" + e.detail if e.detail else "")
            self.state.count_auth_failure()
            if sts and e.bad_key:
                return 403, render_sts_error("InvalidClientTokenId", INVALID_TOKEN_MESSAGE,
                                             request_id)
            if sts:
                return 403, render_sts_error("SignatureDoesNotMatch",
                                             SIGNATURE_MISMATCH_MESSAGE, request_id)
            return 401, render_error("AuthFailure", e.client_message, request_id)
        entry["region"] = scope.region
        if sts:
            return self._sts_answer(params, scope, request_id)
        try:
            content_type = self.headers.get("Content-Type", "")
            if not content_type.startswith("application/x-www-form-urlencoded"):
                raise ApiError(400, "MissingAction",
                               f"Content-Type {content_type!r} is not a form; "
                               "no Action found")
            if isinstance(params, ApiError):
                raise params
            action = params.get("Action")
            if not action:
                raise ApiError(400, "MissingAction",
                               "The request must contain the parameter Action")
            if "Version" not in params:
                raise ApiError(400, "MissingParameter",
                               "The request must contain the parameter Version")
            if action != "DescribeInstances":
                raise ApiError(400, "InvalidAction",
                               f"The action {action} is not valid for this web service.")
            return 200, self._describe_instances(params, scope.region, request_id, fault,
                                                 self.state.account_of(scope.access_key))
        except ApiError as e:
            LOG.info("%s: %s", e.code, e.message)
            return e.status, render_error(e.code, e.message, request_id)

    def _describe_instances(self, params, region, request_id, fault, account=OWNER_ID):
        request = parse_describe_request(params)
        if request.dry_run:
            raise ApiError(412, "DryRunOperation",
                           "Request would have succeeded, but DryRun flag is set.")
        with self.state.lock:
            page_size, namespace = self.state.page_size, self.state.namespace
            hidden = self.state.hidden
        regions = self.state.fleet["accounts"][account]["regions"]
        matching = select_instances([i for i in regions.get(region, [])
                                     if i["id"] not in hidden], request)
        scope = request.scope_digest(region)
        offset = 0
        if request.next_token is not None:
            offset = decode_page_token(self.state.token_key, request.next_token, scope)
        limits = [n for n in (request.max_results, page_size) if n is not None]
        count = min(limits) if limits else len(matching)
        short = fault is not None and fault.kind == "short_page"
        if short:
            count //= 2
        page = matching[offset:offset + count]
        end = offset + len(page)
        token = None
        if short or end < len(matching):
            token = encode_page_token(self.state.token_key, end, scope)
        return render_describe_response(page, token, request_id, namespace)

    def _sts_answer(self, params, scope, request_id):
        """AssumeRole for an authenticated STS request: (status, XML body)."""
        try:
            if isinstance(params, ApiError):
                raise params
            action = params.get("Action")
            if action != "AssumeRole":
                raise ApiError(400, "InvalidAction",
                               f"Could not find operation {action} for version "
                               f"{params.get('Version')}")
            if params.get("Version") != STS_VERSION:
                raise ApiError(400, "InvalidAction",
                               f"Could not find operation {action} for version "
                               f"{params.get('Version')}")
            return 200, self._assume_role(params, scope, request_id)
        except ApiError as e:
            LOG.info("%s: %s", e.code, e.message)
            return e.status, render_sts_error(e.code, e.message, request_id)

    def _assume_role(self, params, scope, request_id):
        role_arn = params.get("RoleArn")
        session = params.get("RoleSessionName")
        external_id = params.get("ExternalId")
        duration = params.get("DurationSeconds", "3600")
        if role_arn is None or not 20 <= len(role_arn) <= 2048:
            raise ApiError(400, "ValidationError",
                           "1 validation error detected: Value at 'roleArn' failed to "
                           "satisfy constraint: Member must have length between 20 and 2048")
        if session is None or not SESSION_NAME_RE.fullmatch(session):
            raise ApiError(400, "ValidationError",
                           f"1 validation error detected: Value {session!r} at "
                           "'roleSessionName' failed to satisfy constraint: Member must "
                           "satisfy regular expression pattern: [\\w+=,.@-]*")
        if external_id is not None and not EXTERNAL_ID_RE.fullmatch(external_id):
            raise ApiError(400, "ValidationError",
                           "1 validation error detected: Value at 'externalId' failed "
                           "to satisfy constraint: Member must satisfy regular expression "
                           "pattern: [\\w+=,.@:\\/-]*")
        if not is_decimal(duration) or not 900 <= int(duration) <= 43200:
            raise ApiError(400, "ValidationError",
                           f"1 validation error detected: Value {duration!r} at "
                           "'durationSeconds' failed to satisfy constraint: Member must "
                           "have value between 900 and 43200")
        caller_arn, caller_role = self.state.caller(scope.access_key)
        match = ROLE_ARN_RE.fullmatch(role_arn)
        account = self.state.fleet["accounts"].get(match["account"]) if match else None
        role = account["roles"].get(role_arn) if account else None
        trusted = role is not None and (scope.access_key in role["trust"] or
                                        caller_role in role["trust"])
        if trusted and role["external_id"] is not None and \
                external_id != role["external_id"]:
            trusted = False
        if not trusted:
            raise ApiError(403, "AccessDenied",
                           f"User: {caller_arn} is not authorized to perform: "
                           f"sts:AssumeRole on resource: {role_arn}")
        if int(duration) > role["max_session"]:
            raise ApiError(400, "ValidationError",
                           "The requested DurationSeconds exceeds the MaxSessionDuration "
                           "set for this role.")
        creds = self.state.issue(role_arn, role, session, int(duration))
        role_id = "AROA" + hashlib.sha256(role_arn.encode()).hexdigest()[:17].upper()
        return render_assume_role(creds["assumed_arn"], f"{role_id}:{session}", creds,
                                  request_id)

    def _send_ec2_body(self, status, payload, request_id, fault):
        headers = [("x-amzn-RequestId", request_id)]
        content_type = "text/xml;charset=UTF-8"
        if fault and fault.kind == "bad_utf8":
            payload = payload.replace(b"<value>", b"<value>\xff", 1)
        if fault and fault.kind == "truncate":
            # Promise the whole body, send half, then drop the connection.
            self._send_head(status, len(payload), content_type, headers)
            self.wfile.write(payload[:len(payload) // 2])
            self.close_connection = True
        elif fault and fault.kind == "huge":
            self._stream_padded(status, payload, fault.size, content_type, headers)
        else:
            self._send(status, payload, content_type, headers)

    def _stream_padded(self, status, payload, size, content_type, headers):
        """Send `payload` grown to `size` bytes by whitespace before its last end tag."""
        split = payload.rindex(b"</")
        padding = max(0, size - len(payload))
        self._send_head(status, len(payload) + padding, content_type, headers)
        self.wfile.write(payload[:split])
        chunk = b" " * (1024 * 1024)
        while padding > 0:
            self.wfile.write(chunk[:padding])
            padding -= len(chunk)
        self.wfile.write(payload[split:])

    def _send_ec2_fault(self, fault, request_id, target="ec2"):
        """Answer with a replacing fault; returns the status (None: no answer)."""
        if fault.kind == "reset":
            # Close with SO_LINGER 0 so the client sees a TCP reset.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()
            return None
        errors = {
            "throttle": (503, "RequestLimitExceeded", "Request limit exceeded."),
            "error500": (500, "InternalError", "An internal error has occurred"),
            "xml_error": (400, "InvalidParameterValue", "The filter 'injected-fault' is invalid"),
            "auth_failure": (401, "AuthFailure", AUTH_FAILURE_MESSAGE),
            "unauthorized": (403, "UnauthorizedOperation",
                             "You are not authorized to perform this operation."),
            "expired_token": (400, "ExpiredToken",
                              "The security token included in the request is expired"),
            "error_in_200": (200, "InternalError", "An internal error has occurred"),
        }
        headers = [("x-amzn-RequestId", request_id)]
        if target == "sts" and fault.kind in STS_FAULT_ERRORS:
            status, code, message = STS_FAULT_ERRORS[fault.kind]
            self._send(status, render_sts_error(code, message, request_id,
                                                "Receiver" if status >= 500 else "Sender"),
                       "text/xml", headers)
            return status
        if fault.kind in errors:
            status, code, message = errors[fault.kind]
            self._send(status, render_error(code, message, request_id),
                       "text/xml;charset=UTF-8", headers)
            return status
        if fault.kind == "error503":
            self._send(503, b"", headers=headers)
            return 503
        if fault.kind == "html":
            page = (b"<!DOCTYPE html>\n<html><head><title>Service Unavailable</title></head>"
                    b"<body><h1>Please sign in to the network</h1></body></html>\n")
            self._send(200, page, "text/html; charset=UTF-8", headers)
            return 200
        assert fault.kind == "garbage200", fault.kind
        self._send(200, b"\x00\x01 not XML at all {\"<>\": ]]> \xff\xfe\n",
                   "text/xml;charset=UTF-8", headers)
        return 200

    # ---- IMDS

    def _imds(self, path):
        fault = self.state.take_fault("imds")
        entry = {"target": "imds", "method": self.command, "path": path, "status": None,
                 "fault": fault.kind if fault else None}
        self.state.record(entry)
        try:
            if fault and fault.kind == "hang":
                time.sleep(fault.delay)
            if fault and fault.kind == "error500":
                entry["status"] = 500
                self._send(500, imds_html(500, "Internal Server Error"), "text/html")
                return
            v1_only = fault is not None and fault.kind == "v1_only"
            if self.command == "PUT":
                entry["status"] = self._imds_put(path, v1_only)
            else:
                entry["status"] = self._imds_get(path, v1_only)
        finally:
            LOG.info("imds %s %s status=%s fault=%s", self.command, path,
                     entry["status"], entry["fault"])

    def _imds_put(self, path, v1_only):
        if path != "/latest/api/token" or v1_only:
            self._send(405, imds_html(405, "Method Not Allowed"), "text/html")
            return 405
        ttl = self.headers.get("X-aws-ec2-metadata-token-ttl-seconds", "")
        if not is_decimal(ttl) or not 1 <= int(ttl) <= 21600:
            self._send(400, imds_html(400, "Bad Request"), "text/html")
            return 400
        token = self.state.issue_imds_token(int(ttl))
        self._send(200, token.encode(), "text/plain",
                   [("X-aws-ec2-metadata-token-ttl-seconds", ttl)])
        return 200

    def _imds_get(self, path, v1_only):
        if path == "/latest/api/token":
            self._send(405, imds_html(405, "Method Not Allowed"), "text/html")
            return 405
        token = self.headers.get("X-aws-ec2-metadata-token")
        if not v1_only and not self.state.imds_token_valid(token):
            self._send(401, b"")
            return 401
        document = imds_document(self.state.fleet["imds"], path)
        if document is None:
            self._send(404, imds_html(404, "Not Found"), "text/html")
            return 404
        self._send(200, document.encode(), "text/plain")
        return 200

    # ---- control

    def _control(self, path, body):
        try:
            spec = json.loads(body) if body.strip() else {}
        except ValueError as e:
            self._send_json(400, {"error": f"body is not JSON: {e}"})
            return
        route = (self.command, path)
        try:
            if route == ("GET", "/__control/stats"):
                self._send_json(200, self.state.stats())
            elif route == ("POST", "/__control/reset"):
                self.state.reset()
                self._send_json(200, {"ok": True})
            elif route == ("POST", "/__control/fault"):
                fault = parse_fault(spec)
                with self.state.lock:
                    self.state.faults[fault.target].append(fault)
                self._send_json(200, {"ok": True, "queued": fault.__dict__})
            elif route == ("POST", "/__control/config"):
                self._send_json(200, self._configure(spec))
            else:
                self._send_json(404, {"error": f"no control endpoint {self.command} {path}"})
        except ValueError as e:
            self._send_json(400, {"error": str(e)})

    def _configure(self, spec):
        if not isinstance(spec, dict) or set(spec) - {"page_size", "namespace", "hidden"}:
            raise ValueError("config takes only 'page_size', 'namespace' and 'hidden'")
        hidden = spec.get("hidden", [])
        if not isinstance(hidden, list) or not all(isinstance(i, str) for i in hidden):
            raise ValueError("hidden must be a list of instance ids")
        page_size = spec.get("page_size")
        if page_size is not None and (type(page_size) is not int or page_size < 1):
            raise ValueError("page_size must be null or a positive integer")
        namespace = spec.get("namespace")
        if namespace is not None and (not isinstance(namespace, str) or not namespace):
            raise ValueError("namespace must be null or a non-empty string")
        with self.state.lock:
            if "page_size" in spec:
                self.state.page_size = page_size
            if "namespace" in spec:
                self.state.namespace = namespace or DEFAULT_NAMESPACE
            if "hidden" in spec:
                self.state.hidden = frozenset(hidden)
            return {"page_size": self.state.page_size, "namespace": self.state.namespace,
                    "hidden": sorted(self.state.hidden)}

    def _send_json(self, status, document):
        self._send(status, json.dumps(document, indent=1).encode(), "application/json")


class FakeEc2Server(ThreadingHTTPServer):
    """One thread per connection, none of which delays shutdown."""

    daemon_threads = True

    def __init__(self, port, state):
        super().__init__(("127.0.0.1", port), Handler)
        self.state = state

    def handle_error(self, request, client_address):
        # Clients hang up mid-answer on purpose (timeouts, the body cap):
        # that is part of the tests, not a server error worth a traceback.
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)


# --------------------------------------------------------------------------
# Command line


def write_port_file(path, port):
    """Write the port so that readers see either nothing or the whole number."""
    tmp = f"{path}.tmp.{os.getpid()}"
    with open(tmp, "w") as f:
        f.write(f"{port}\n")
    os.replace(tmp, path)


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fleet", required=True, help="fleet JSON file")
    parser.add_argument("--port", type=int, default=0, help="port (0: any free port)")
    parser.add_argument("--port-file", help="write the port number to this file")
    parser.add_argument("--cred", action="append", type=parse_cred_option, default=[],
                        metavar="AKID:SECRET[:TOKEN]", help="accepted credentials")
    parser.add_argument("--log", help="log file (default: stderr)")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    handler = logging.FileHandler(args.log) if args.log else logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    LOG.addHandler(handler)
    LOG.setLevel(logging.INFO)
    try:
        fleet = load_fleet(args.fleet)
        credentials = build_credential_table(
            (args.cred or [DEFAULT_CREDENTIAL]) + fleet["creds"])
    except FleetError as e:
        print(f"fake_ec2: {e}", file=sys.stderr)
        return 2

    server = FakeEc2Server(args.port, ServerState(fleet, credentials))
    port = server.server_address[1]
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    threading.Thread(target=server.serve_forever, name="serve", daemon=True).start()
    if args.port_file:
        write_port_file(args.port_file, port)
    print(f"PORT {port}", flush=True)
    LOG.info("listening on 127.0.0.1:%d with fleet %s", port, args.fleet)
    while not stop.wait(0.5):
        pass
    server.shutdown()
    server.server_close()
    LOG.info("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
