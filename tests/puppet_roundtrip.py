#!/usr/bin/python3
r"""Puppet round-trip: a real `puppet apply` classifies each node through the ENC.

    /usr/bin/python3 tests/puppet_roundtrip.py --enc-cmd "CMD" [CASE ...]
    /usr/bin/python3 tests/puppet_roundtrip.py --self-test

CMD is a shell command prefix: the harness writes a wrapper script
`external_nodes` that runs `CMD "$1"`, so the caller decides how the ENC gets
its config, endpoint and environment, e.g.
    --enc-cmd "env AWS_ENDPOINT_URL_EC2=http://127.0.0.1:8080 build/enc --config X"
Relative paths in CMD are relative to the caller's working directory (puppet,
hence the ENC, runs there). The harness starts no servers. CASE is a case
name (file stem under fixtures/puppet/cases/) or a path to a case file;
default: every fixtures/puppet/cases/*.json, by name. Runs are --jobs (2) at
a time. Output: `ok NAME` or `FAIL NAME: reasons [kept: DIR]` per case, then
`N passed, M failed`; exit 1 on any failure. DIR holds the failed run: the
ENC's argv/stdout/stderr/exit status (enc.*), puppet's argv, stdout, stderr
and exit status (puppet.*), the generated modules/ and site.pp, and the
throwaway puppet directories.

Case file fixtures/puppet/cases/NAME.json:

    why          one line: why the case exists (required)
    certname     the certname Puppet asks the ENC about (required)
    classes      {CLASS: {PARAM: VALUE}}: exactly the classes the ENC must
                 send, each with exactly these parameters ({} for none)
    parameters   {NAME: VALUE}: exactly the top-scope parameters the ENC must
                 send (every name, no more, no fewer)
    environment  the environment the ENC must send
    fail         true: the ENC must fail for this node and Puppet must refuse
                 it (classes/parameters/environment are then not allowed)
    error_re     (fail cases) Python regex searched (re.MULTILINE) in puppet's
                 stderr, on top of the built-in could-not-find-node check
    enc_exit     (fail cases) the ENC's expected exit status (default: any
                 non-zero)
    enc_stderr_re  Python regex searched (re.MULTILINE) in the ENC's own
                 stderr (Puppet discards it; the wrapper keeps it)

VALUE is JSON and its JSON type is the Puppet type expected: string ->
String, integer -> Integer, number with '.' or exponent -> Float, true/false
-> Boolean, array -> Array (exact length, element by element), object ->
Hash (exactly these String keys), null -> undef (a null class parameter must
still be sent, as `p: ~`; a null top-scope parameter must still be a key).
Strings compare exactly: case, whitespace, code points.

How the check works. For each case the harness generates a module tree from
the expected data, in the case's own temporary directory:
  * for every expected class C (`a::b::c` goes to a/manifests/b/c.pp) a
    `class C(<Type> $p, ...)` declaring only the expected parameters with
    their base type (String, Integer, Float, Boolean, Array, Hash; Any for
    null), so Puppet itself rejects an unexpected parameter ("has no
    parameter named 'q'"), a missing one ("expects a value for parameter
    'p'") and a wrong base type ("parameter 'p' expects a String value, got
    Integer"). Its body then matches every parameter against a type only the
    expected value matches: Enum['no'] (case-sensitive in Puppet 7, unlike
    ==), Integer[4, 4], Float[x, x], Boolean[true], Tuple[T1, ..., n, n],
    Struct[{NotUndef['k'] => T, ...}], Array[Any, 0, 0], Hash[Any, Any, 0, 0],
    Undef; and fail()s naming the class, the parameter, the expected value
    and what arrived (`String($v, '%p')`, with its type; a string's length
    in characters, to expose invisible differences). Then
    `notify { 'roundtrip: class C arrived': }`, which the harness looks for.
  * class roundtrip_harness::topscope, declared by the generated site.pp,
    checks $::environment and every expected top-scope variable the same way
    and notifies 'roundtrip: top scope checked'. (Not in one of the ENC's
    classes, so that a node with no classes is checked too; site.pp declares
    nothing else, so the class list is the ENC's alone.)
  * Puppet writes the catalog's class list (--write-catalog-summary, to
    vardir/state/classes.txt): it must be exactly the expected classes plus
    `settings` and roundtrip_harness::topscope. A class the ENC sends that
    the case does not expect has no definition, so Puppet fails with
    "Could not find class X for NODE".
  * The ENC's stdout (kept by the wrapper) is read with Ruby's Psych as
    Puppet reads it, only to compare the set of top-scope parameter names
    (Puppet code cannot list variables): an extra one fails the case.
  * The wrapper records how often and with which argument Puppet ran the
    ENC (exactly once, with the certname), its exit status and its stderr (a
    sanitizer report there fails the case). A passing case needs ENC exit 0
    and puppet exit 0 or 2 (--detailed-exitcodes) with no Error line.
--self-test checks the harness itself, with fixtures/puppet/stub_enc.py (it
prints a canned YAML file verbatim) as the ENC: the sample cases in
fixtures/puppet/selftest/cases/ against the documents in selftest/stub/
(CERTNAME.yaml) must pass; then each selftest/negative/NAME.json ({"why",
"case": a sample case, "reason_re"}) makes the stub send negative/NAME.yaml,
a wrong document, and the harness must fail that case for a reason matching
reason_re. The self-test's cases are apart from fixtures/puppet/cases/, which
hold the real ENC's cases.

Generated string literals are single-quoted, a backslash before each
backslash and single quote; strings with control characters other than
newline and tab are double-quoted, with \u{...} escapes. The generated code
holds only the expectation: values reach Puppet through the ENC alone.

Puppet 7 facts (Debian 12's puppet-agent 7.23.0, read in its source and
checked by running it; the self-test re-checks the ones the harness needs):
  * `puppet apply --node_terminus=exec --external_nodes=X` runs `X CERTNAME`
    once per run (Puppet::Node::Exec); X is split on whitespace, so the
    harness refuses a temporary directory with blanks in its path.
  * The ENC's environment is authoritative under puppet apply: the catalog
    is compiled in it ("Compiled catalog for N in environment staging"),
    then the run says "Local environment: 'production' doesn't match server
    specified environment 'staging', restarting agent run with environment
    'staging'" and applies it. Top-scope $environment (and
    $server_facts['environment']) is the ENC's environment. It must exist as
    the directory CODEDIR/environments/ENV, else "Error: Could not run:
    Could not find a directory environment named 'ENV' anywhere in the path:
    CODEDIR/environments. Does the directory exist?" (exit 1). puppet apply
    creates CODEDIR/environments/production itself when production is the
    local default.
  * An ENC that omits `environment` gets the agent's own environment
    (--environment, default production). The harness runs puppet with
    --environment=roundtrip_enc_sent_none (a directory it creates), so an
    omitted environment fails even when `production` is expected.
  * --modulepath on the command line replaces the modulepath of every
    directory environment (environment.conf's modulepath and ENV/modules are
    not read): the generated modules are visible in whichever environment
    the ENC names. The harness creates ENV directories for the expected
    environment, production and the sentinel, so a wrong but existing
    environment reaches the $environment check.
  * The ENC is executed with LANG=C and LC_ALL=C, HOME, USER and LOGNAME
    unset (so no ~/.aws), stdin from /dev/null, in a new session; its stderr
    is discarded and only stdout is parsed, with Psych safe_load (aliases
    allowed, nothing beyond the YAML core types but Symbol): an unquoted
    2024-01-01 is a Date and fails the run with "Could not load external
    node results for N: (<unknown>): Tried to load unspecified class: Date",
    an unquoted *ref with "Unknown alias: ref".
  * ENC parameters win over facts of the same name (Puppet::Node#merge
    keeps the first and warns "The node parameter 'x' for node 'n' was
    already set").
  * A class parameter without default is required even when its type
    accepts undef: omitted -> "expects a value for parameter"; sent as
    null -> undef.
  * An ENC that exits non-zero: "Error: Could not run: Failed to find NODE
    via exec: Execution of 'WRAPPER NODE' returned N: OUTPUT" (OUTPUT is the
    ENC's stdout), exit 1. An ENC that exits 0 with empty (all-whitespace)
    output: "Error: Could not run: Could not find node NODE", exit 1. The
    wording "Failed when searching for node NODE: ..." (and "Could not find
    node 'NODE'; cannot compile") belongs to the catalog compiler of a
    puppetserver compiling for an agent; puppet apply never prints it.
  * `==` on strings is case-insensitive ('No' == 'no' is true, also inside
    arrays and hash values; hash keys are exact). `=~ Enum['no']` is
    case-sensitive ('No' does not match), as are Struct keys; 1 does not
    match Enum['1'], 4.0 not Integer[4, 4], 4 not Float[4.0, 4.0], 'true'
    not Boolean[true]; Struct and Tuple reject extra keys and elements.
    Puppet's lexer reads -9223372036854775808 as -(2**63), which overflows:
    the harness writes it as (-9223372036854775807 - 1).
  * As root, Debian's puppet writes to /var/lib/puppet unless given
    throwaway --confdir --vardir --codedir --logdir --rundir --publicdir
    --ssldir: every run gets its own, under the case's directory.
  * A run takes 1.6-2.6 s on this 2-core machine, 1.2 s with --no-facts
    (--facts_terminus=memory: facter is most of the time). In a container
    facter logs "Error: Facter: Permission denied @ rb_sysopen -
    /proc/1/environ"; those lines are ignored.
"""

import argparse
import concurrent.futures
import glob
import json
import math
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "fixtures", "puppet")
CASES = os.path.join(FIXTURES, "cases")
SELFTEST = os.path.join(FIXTURES, "selftest")
SELFTEST_CASES = os.path.join(SELFTEST, "cases")
STUB_DIR = os.path.join(SELFTEST, "stub")
NEGATIVE = os.path.join(SELFTEST, "negative")
STUB_ENC = os.path.join(FIXTURES, "stub_enc.py")
PYTHON = "/usr/bin/python3"
PUPPET = "puppet"

# The local default environment: an ENC that sends none lands here.
SENTINEL_ENV = "roundtrip_enc_sent_none"
HARNESS_MODULE = "roundtrip_harness"
TOPSCOPE_CLASS = HARNESS_MODULE + "::topscope"

CLASS_RE = re.compile(r"[a-z][a-z0-9_]*(::[a-z][a-z0-9_]*)*\Z")
PARAM_RE = re.compile(r"[a-z_][a-zA-Z0-9_]*\Z")
VAR_RE = re.compile(r"[a-z_][a-zA-Z0-9_]*\Z")
ENV_RE = re.compile(r"[a-z0-9_]+\Z")
# Puppet's reserved names: never node parameters, nor class parameters.
RESERVED = {"name", "title", "facts", "server_facts", "trusted", "environment",
            "module_name", "caller_module_name"}
CASE_KEYS = {"why", "certname", "classes", "parameters", "environment", "fail",
             "error_re", "enc_exit", "enc_stderr_re"}
INT_MIN, INT_MAX = -2 ** 63, 2 ** 63 - 1

# Puppet 7's own wording when puppet apply cannot classify a node.
NOT_FOUND_RE = (r"^Error: Could not run: (?:Failed to find {node} via exec: "
                r"Execution of '.*' returned \d+: |Could not find node {node}$)")


class CaseError(Exception):
    """A case file that cannot be checked as written."""


# ---------------------------------------------------------------- cases

def load_case(path):
    name = os.path.splitext(os.path.basename(path))[0]
    try:
        with open(path, encoding="utf-8") as f:
            case = json.load(f, parse_constant=_no_constant)
    except (OSError, ValueError) as e:
        raise CaseError("%s: %s" % (path, e))
    if not isinstance(case, dict):
        raise CaseError("%s: not a JSON object" % path)
    unknown = set(case) - CASE_KEYS
    if unknown:
        raise CaseError("unknown keys: %s" % ", ".join(sorted(unknown)))
    if not isinstance(case.get("why"), str) or not case["why"].strip():
        raise CaseError("no 'why'")
    cert = case.get("certname")
    if not isinstance(cert, str) or not cert or re.search(r"\s", cert):
        raise CaseError("'certname' must be a string without whitespace")
    if case.get("fail"):
        if case["fail"] is not True:
            raise CaseError("'fail' must be true or absent")
        for k in ("classes", "parameters", "environment"):
            if k in case:
                raise CaseError("a fail case has no '%s'" % k)
        for k in ("error_re", "enc_stderr_re"):
            if k in case:
                _compile(case, k)
        if "enc_exit" in case and (not isinstance(case["enc_exit"], int)
                                   or not 0 < case["enc_exit"] < 256):
            raise CaseError("'enc_exit' must be 1..255")
    else:
        for k in ("error_re", "enc_exit"):
            if k in case:
                raise CaseError("'%s' is for fail cases" % k)
        if "enc_stderr_re" in case:
            _compile(case, "enc_stderr_re")
        classes = case.get("classes")
        if not isinstance(classes, dict):
            raise CaseError("'classes' must be an object {CLASS: {PARAM: VALUE}}")
        for cls, params in classes.items():
            if not CLASS_RE.match(cls) or cls.split("::")[0] == HARNESS_MODULE \
                    or cls in ("settings", "main"):
                raise CaseError("class name %r cannot be checked" % cls)
            if not isinstance(params, dict):
                raise CaseError("class %s: parameters must be an object" % cls)
            for p, v in params.items():
                if not PARAM_RE.match(p) or p in RESERVED or p == "roundtrip_errors":
                    raise CaseError("class %s: parameter name %r" % (cls, p))
                _check_value(v, "class %s parameter %s" % (cls, p))
        params = case.get("parameters")
        if not isinstance(params, dict):
            raise CaseError("'parameters' must be an object {NAME: VALUE}")
        for p, v in params.items():
            if not VAR_RE.match(p) or p in RESERVED:
                raise CaseError("parameter name %r cannot be a variable" % p)
            _check_value(v, "parameter " + p)
        env = case.get("environment")
        if not isinstance(env, str) or not ENV_RE.match(env) \
                or env == SENTINEL_ENV:
            raise CaseError("'environment' must match [a-z0-9_]+")
    case["name"] = name
    return case


def _no_constant(c):
    raise ValueError("%s is not a value Puppet can receive" % c)


def _compile(case, key):
    try:
        re.compile(case[key])
    except (re.error, TypeError) as e:
        raise CaseError("%s: %s" % (key, e))


def _check_value(v, where):
    if isinstance(v, bool) or v is None:
        return
    if isinstance(v, str):
        try:
            v.encode("utf-8")
        except UnicodeEncodeError:
            raise CaseError("%s: not valid Unicode (lone surrogate?)" % where)
        return
    if isinstance(v, int):
        if not INT_MIN <= v <= INT_MAX:
            raise CaseError("%s: integer out of Puppet's 64-bit range" % where)
    elif isinstance(v, float):
        if not math.isfinite(v):
            raise CaseError("%s: not a finite number" % where)
    elif isinstance(v, list):
        for i, x in enumerate(v):
            _check_value(x, "%s[%d]" % (where, i))
    elif isinstance(v, dict):
        for k, x in v.items():
            _check_value(k, "%s key %r" % (where, k))
            _check_value(x, "%s[%r]" % (where, k))
    else:
        raise CaseError("%s: unsupported value %r" % (where, v))


# ------------------------------------------------------ Puppet literals

def pp_str(s):
    """A Puppet string literal whose value is exactly s."""
    if re.search(r"[\x00-\x08\x0b-\x1f\x7f]", s):
        out = []
        for ch in s:
            if ch in '\\"$':
                out.append("\\" + ch)
            elif ch == "\n":
                out.append("\\n")
            elif ch == "\t":
                out.append("\\t")
            elif ord(ch) < 0x20 or ord(ch) == 0x7f:
                out.append("\\u{%x}" % ord(ch))
            else:
                out.append(ch)
        return '"' + "".join(out) + '"'
    return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'"


def pp_float(x):
    r = repr(float(x))
    if "e" not in r and "." not in r:
        r += ".0"
    m = re.match(r"(-?)(\d+)(?:\.(\d+))?e([+-]?)(\d+)\Z", r)
    if m:  # Puppet's lexer wants a digit after '.', no '+' in the exponent
        sign, whole, frac, esign, exp = m.groups()
        r = "%s%s.%se%s%s" % (sign, whole, frac or "0",
                              "-" if esign == "-" else "", exp)
    return r


def pp_int(n):
    # Puppet lexes -N as -(N): the most negative integer needs an expression.
    return "(%d - 1)" % (n + 1) if n == INT_MIN else str(n)


def pp_value(v):
    """A Puppet expression whose value is v (for messages)."""
    if v is None:
        return "undef"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return pp_int(v)
    if isinstance(v, float):
        return pp_float(v)
    if isinstance(v, str):
        return pp_str(v)
    if isinstance(v, list):
        return "[" + ", ".join(pp_value(x) for x in v) + "]"
    return "{" + ", ".join("%s => %s" % (pp_str(k), pp_value(x))
                           for k, x in v.items()) + "}"


def pp_type(v):
    """A Puppet type that v, and nothing else, matches."""
    if v is None:
        return "Undef"
    if isinstance(v, bool):
        return "Boolean[%s]" % ("true" if v else "false")
    if isinstance(v, int):
        return "Integer[%s, %s]" % (pp_int(v), pp_int(v))
    if isinstance(v, float):
        return "Float[%s, %s]" % (pp_float(v), pp_float(v))
    if isinstance(v, str):
        return "Enum[%s]" % pp_str(v)
    if isinstance(v, list):
        if not v:
            return "Array[Any, 0, 0]"
        return "Tuple[%s, %d, %d]" % (", ".join(pp_type(x) for x in v),
                                      len(v), len(v))
    if not v:
        return "Hash[Any, Any, 0, 0]"
    # NotUndef[...] keys are required even when the value type is Undef.
    return "Struct[{%s}]" % ", ".join(
        "NotUndef[%s] => %s" % (pp_str(k), pp_type(x)) for k, x in v.items())


def pp_base_type(v):
    if v is None:
        return "Any"
    for t, name in ((bool, "Boolean"), (int, "Integer"), (float, "Float"),
                    (str, "String"), (list, "Array"), (dict, "Hash")):
        if isinstance(v, t):
            return name
    raise AssertionError(v)


# ------------------------------------------------- generated module tree

CHECK_FUNCTION = """\
# Generated by tests/puppet_roundtrip.py. Returns [] when $got matches the
# exact type $want, else a one-item list saying what arrived instead.
function roundtrip_harness::check(String $what, Type $want, Any $expected, Any $got) >> Array[String] {
  if $got =~ $want {
    []
  } else {
    $kind = $got ? {
      String  => "String of ${got.length} characters",
      default => type($got, 'generalized'),
    }
    ["${what}: expected ${String($expected, '%p')}, got ${String($got, '%p')} (${kind})"]
  }
}
"""


def check_calls(checks):
    """Puppet lines: collect mismatches of [(what, expected, expr)], fail."""
    lines = ["  $roundtrip_errors = flatten(["]
    for what, value, expr in checks:
        lines.append("    roundtrip_harness::check(%s, %s, %s, %s)," %
                     (pp_str(what), pp_type(value), pp_value(value), expr))
    lines.append("  ])")
    lines.append("  unless empty($roundtrip_errors) {")
    lines.append("    fail(join($roundtrip_errors, '; '))")
    lines.append("  }")
    return lines


def class_code(cls, params, case_name):
    lines = ["# Generated by tests/puppet_roundtrip.py for case %s." % case_name]
    if params:
        lines.append("class %s (" % cls)
        for p, v in params.items():
            lines.append("  %s $%s," % (pp_base_type(v), p))
        lines.append(") {")
        lines += check_calls([("class %s parameter %s" % (cls, p), v, "$" + p)
                              for p, v in params.items()])
    else:
        lines.append("class %s {" % cls)
    lines.append("  notify { %s: }" % pp_str("roundtrip: class %s arrived" % cls))
    lines.append("}")
    return "\n".join(lines) + "\n"


def topscope_code(case):
    checks = [("environment", case["environment"], "$::environment")]
    checks += [("top-scope variable $%s" % p, v, "$::" + p)
               for p, v in case["parameters"].items()]
    lines = ["# Generated by tests/puppet_roundtrip.py for case %s." % case["name"],
             "class %s {" % TOPSCOPE_CLASS]
    lines += check_calls(checks)
    lines.append("  notify { 'roundtrip: top scope checked': }")
    lines.append("}")
    return "\n".join(lines) + "\n"


def class_path(modules, cls):
    parts = cls.split("::")
    if len(parts) == 1:
        return os.path.join(modules, parts[0], "manifests", "init.pp")
    return os.path.join(modules, parts[0], "manifests", *parts[1:-1],
                        parts[-1] + ".pp")


def write(path, text, mode=0o644):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    os.chmod(path, mode)


WRAPPER = """\
#!/bin/sh
# Generated by tests/puppet_roundtrip.py: Puppet's external_nodes command.
# Runs the ENC under test, keeps its stdout, stderr and exit status.
d={dir}
printf '%s\\n' "$1" >> "$d/enc.argv"
{cmd} "$1" > "$d/enc.stdout" 2> "$d/enc.stderr"
rc=$?
echo "$rc" > "$d/enc.rc"
cat "$d/enc.stdout"
exit "$rc"
"""


def prepare(case, enc_cmd, cdir):
    """Writes the case's wrapper, module tree, manifest and puppet dirs."""
    modules = os.path.join(cdir, "modules")
    write(os.path.join(cdir, "external_nodes"),
          WRAPPER.format(dir=shlex.quote(cdir), cmd=enc_cmd), 0o755)
    write(os.path.join(modules, HARNESS_MODULE, "functions", "check.pp"),
          CHECK_FUNCTION)
    if not case.get("fail"):
        for cls, params in case["classes"].items():
            write(class_path(modules, cls), class_code(cls, params, case["name"]))
        write(class_path(modules, TOPSCOPE_CLASS), topscope_code(case))
    write(os.path.join(cdir, "site.pp"),
          "# Generated by tests/puppet_roundtrip.py: the classes come from the ENC.\n"
          "include %s\n" % TOPSCOPE_CLASS if not case.get("fail") else "")
    envs = {SENTINEL_ENV, "production"}
    if case.get("environment"):
        envs.add(case["environment"])
    for env in envs:
        os.makedirs(os.path.join(cdir, "code", "environments", env), exist_ok=True)


def puppet_argv(case, cdir, facts):
    argv = [PUPPET, "apply", "--color=false", "--detailed-exitcodes",
            "--write-catalog-summary"]
    for d in ("confdir", "vardir", "codedir", "logdir", "rundir",
              "publicdir", "ssldir"):
        argv.append("--%s=%s" % (d, os.path.join(cdir, d.replace("dir", ""))))
    argv += ["--environment=" + SENTINEL_ENV,
             "--modulepath=" + os.path.join(cdir, "modules"),
             "--basemodulepath=" + os.path.join(cdir, "modules"),
             "--node_terminus=exec",
             "--external_nodes=" + os.path.join(cdir, "external_nodes"),
             "--certname=" + case["certname"]]
    if not facts:
        argv.append("--facts_terminus=memory")
    argv.append(os.path.join(cdir, "site.pp"))
    return argv


# ------------------------------------------------------------- judging

def read(path, default=""):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except FileNotFoundError:
        return default


def puppet_errors(err):
    """Puppet's Error: lines, without facter's container noise."""
    out = []
    for line in err.splitlines():
        if line.startswith("Error: ") and not line.startswith("Error: Facter:"):
            line = re.sub(r" \(file: [^)]*\)", "", line).rstrip()
            line = re.sub(r"^Error: ((Evaluation Error: )?Error while evaluating "
                          r"an? [A-Za-z ]+?, )+", "Error: ", line)
            out.append(line if len(line) <= 1000 else line[:1000] + "...")
    return out


def enc_param_names(stdout):
    """The top-level key sets of the ENC's YAML, read as Puppet reads it."""
    prog = ('require "yaml"; require "json"; '
            'd = YAML.safe_load(STDIN.read, permitted_classes: [Symbol], aliases: true); '
            'h = d.is_a?(Hash) ? d : {}; p = h["parameters"]; '
            'puts JSON.generate(p.is_a?(Hash) ? p.keys.map(&:to_s) : nil)')
    p = subprocess.run(["ruby", "-e", prog], input=stdout.encode("utf-8"),
                       capture_output=True, timeout=60)
    if p.returncode != 0:
        return None
    return json.loads(p.stdout)


def judge(case, cdir, rc, out, err):
    """Failure reasons for one finished run (empty: passed)."""
    node = case["certname"]
    errors = puppet_errors(err)
    enc_argv = read(os.path.join(cdir, "enc.argv")).splitlines()
    enc_rc = read(os.path.join(cdir, "enc.rc")).strip()
    enc_out = read(os.path.join(cdir, "enc.stdout"))
    enc_err = read(os.path.join(cdir, "enc.stderr"))
    why = []
    if enc_argv != [node]:
        why.append("Puppet ran the ENC with %r, want once with %r" % (enc_argv, node))
    if "Sanitizer" in enc_err or "runtime error" in enc_err:
        why.append("sanitizer report on the ENC's stderr: " + enc_err.strip()[:300])
    if case.get("enc_stderr_re") and not re.search(case["enc_stderr_re"], enc_err,
                                                   re.MULTILINE):
        why.append("ENC stderr %r does not match %r" % (enc_err.strip()[:200],
                                                        case["enc_stderr_re"]))
    markers = re.findall(r"^Notice: (roundtrip: .*)$", out, re.MULTILINE)
    if case.get("fail"):
        if rc == 0 or rc == 2:
            why.append("Puppet accepted the node (exit %d)" % rc)
        elif rc != 1:
            why.append("puppet exit %d, want 1" % rc)
        if not re.search(NOT_FOUND_RE.format(node=re.escape(node)), err, re.MULTILINE):
            why.append("no could-not-find-node error from Puppet; errors: %s"
                       % (" | ".join(errors) or "none"))
        if case.get("error_re") and not re.search(case["error_re"], err, re.MULTILINE):
            why.append("Puppet's stderr does not match %r; errors: %s"
                       % (case["error_re"], " | ".join(errors) or "none"))
        if markers:
            why.append("Puppet compiled a catalog anyway")
        if enc_rc == "0":
            if enc_out.strip():
                why.append("the ENC exited 0 and printed a document")
        elif enc_out:
            why.append("the ENC exited %s but its stdout is not empty: %r"
                       % (enc_rc, enc_out[:200]))
        if "enc_exit" in case and enc_rc != str(case["enc_exit"]):
            why.append("ENC exit %s, want %d" % (enc_rc or "?", case["enc_exit"]))
        return why

    if enc_rc != "0":
        why.append("the ENC exited %s: %s" % (enc_rc or "?",
                                               enc_err.strip()[:300] or "no stderr"))
    if rc not in (0, 2):
        why.append("puppet exit %d: %s" % (rc, " | ".join(errors) or "no error line"))
    elif errors:
        why.append("puppet errors: " + " | ".join(errors))
    if rc in (0, 2):
        arrived = {m[len("roundtrip: class "):-len(" arrived")] for m in markers
                   if m.startswith("roundtrip: class ") and m.endswith(" arrived")}
        missing = [c for c in case["classes"] if c not in arrived]
        if missing:
            why.append("class did not arrive: " + ", ".join(missing))
        if "roundtrip: top scope checked" not in markers:
            why.append("the top-scope check did not run")
        classfile = os.path.join(cdir, "var", "state", "classes.txt")
        if os.path.exists(classfile):
            got = set(read(classfile).split())
            want = set(case["classes"]) | {"settings", TOPSCOPE_CLASS}
            extra = sorted(got - want)
            if extra:
                why.append("unexpected class in the catalog: " + ", ".join(extra))
            gone = sorted(want - got)
            if gone:
                why.append("class missing from the catalog: " + ", ".join(gone))
        else:
            why.append("Puppet wrote no classes.txt")
    if enc_rc == "0" and enc_out.strip():
        names = enc_param_names(enc_out)
        if names is None:
            why.append("the ENC's 'parameters' is not a hash Ruby's YAML can read")
        else:
            extra = sorted(set(names) - set(case["parameters"]))
            gone = sorted(set(case["parameters"]) - set(names))
            if extra:
                why.append("ENC sent unexpected parameters: " + ", ".join(extra))
            if gone:
                why.append("ENC did not send parameters: " + ", ".join(gone))
    return why


# ------------------------------------------------------------- running

def run_case(case, enc_cmd, root, facts, timeout):
    """Runs one case; returns (reasons, case dir, seconds)."""
    cdir = tempfile.mkdtemp(prefix=case["name"] + ".", dir=root)
    prepare(case, enc_cmd, cdir)
    t0 = time.time()
    try:
        p = subprocess.run(puppet_argv(case, cdir, facts), capture_output=True,
                           timeout=timeout, stdin=subprocess.DEVNULL)
        rc, out, err = (p.returncode, p.stdout.decode("utf-8", "replace"),
                        p.stderr.decode("utf-8", "replace"))
    except subprocess.TimeoutExpired as e:
        rc, out, err = None, (e.stdout or b"").decode("utf-8", "replace"), \
            (e.stderr or b"").decode("utf-8", "replace")
    secs = time.time() - t0
    write(os.path.join(cdir, "puppet.stdout"), out)
    write(os.path.join(cdir, "puppet.stderr"), err)
    write(os.path.join(cdir, "puppet.argv"),
          " ".join(shlex.quote(a) for a in puppet_argv(case, cdir, facts)) + "\n")
    if rc is None:
        return ["puppet did not finish within %d s" % timeout], cdir, secs
    write(os.path.join(cdir, "puppet.rc"), "%d\n" % rc)
    return judge(case, cdir, rc, out, err), cdir, secs


def make_root():
    root = tempfile.mkdtemp(prefix="puppet-roundtrip.")
    if re.search(r"\s", root):
        sys.exit("puppet_roundtrip: temporary directory %r has whitespace; "
                 "Puppet splits external_nodes on it: set TMPDIR" % root)
    return root


def run_all(jobs, items, root, facts, timeout, keep):
    """items: [(label, case, enc_cmd, check)], check(reasons) -> reasons.
    Prints one line per item, in order; returns (passed, failed, seconds)."""
    passed = failed = 0
    total_secs = 0.0
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(run_case, case, cmd, root, facts, timeout)
                   for _, case, cmd, _ in items]
        for (label, case, cmd, check), fut in zip(items, futures):
            try:
                reasons, cdir, secs = fut.result()
            except Exception as e:  # a harness bug must not look like a pass
                reasons, cdir, secs = ["harness error: %r" % e], None, 0.0
            total_secs += secs
            reasons = check(reasons)
            if reasons:
                failed += 1
                print("FAIL %s: %s%s" % (label, "; ".join(reasons),
                                         " [kept: %s]" % cdir if cdir else ""))
            else:
                passed += 1
                print("ok %s" % label)
                if cdir and not keep:
                    shutil.rmtree(cdir, ignore_errors=True)
            sys.stdout.flush()
    return passed, failed, total_secs


def find_cases(args):
    if not args:
        paths = sorted(glob.glob(os.path.join(CASES, "*.json")))
    else:
        paths = [a if a.endswith(".json") or os.sep in a
                 else os.path.join(CASES, a + ".json") for a in args]
    return paths


def load_all(paths):
    cases, bad = [], []
    for path in paths:
        try:
            cases.append(load_case(path))
        except CaseError as e:
            bad.append((os.path.splitext(os.path.basename(path))[0], str(e)))
    return cases, bad


def self_test_items():
    """The harness checking itself, with fixtures/puppet/stub_enc.py as the ENC:
    the sample cases in selftest/cases/ against the documents in
    selftest/stub/ must pass; then each selftest/negative/NAME.json names a
    sample case, and the stub sends negative/NAME.yaml (a wrong document)
    instead: the harness must fail the case, for a reason matching its
    reason_re."""
    stub = "%s %s %s" % (PYTHON, shlex.quote(STUB_ENC), shlex.quote(STUB_DIR))
    cases, bad = load_all(sorted(glob.glob(os.path.join(SELFTEST_CASES, "*.json"))))
    items = [("selftest/" + c["name"], c, stub, lambda r: r) for c in cases]
    by_name = {c["name"]: c for c in cases}
    for path in sorted(glob.glob(os.path.join(NEGATIVE, "*.json"))):
        name = os.path.splitext(os.path.basename(path))[0]
        with open(path, encoding="utf-8") as f:
            neg = json.load(f)
        if not neg.get("why") or neg.get("case") not in by_name \
                or not neg.get("reason_re"):
            bad.append(("selftest/negative/" + name,
                        "needs why, case (a sample case) and reason_re"))
            continue
        doc = os.path.join(NEGATIVE, name + ".yaml")
        cmd = "%s %s %s" % (PYTHON, shlex.quote(STUB_ENC), shlex.quote(doc))

        def check(reasons, want=neg["reason_re"]):
            if not reasons:
                return ["the harness passed a wrong ENC document"]
            text = "; ".join(reasons)
            if not re.search(want, text):
                return ["failed, but not for %r: %s" % (want, text)]
            return []
        items.append(("selftest/negative/" + name, by_name[neg["case"]], cmd, check))
    if len(items) < 2:
        bad.append(("selftest", "no sample cases or negatives found"))
    return items, bad


def main():
    ap = argparse.ArgumentParser(
        description="Puppet round-trip: a real puppet apply runs the ENC.",
        usage="%(prog)s (--enc-cmd CMD [CASE ...] | --self-test)")
    ap.add_argument("--enc-cmd", help="shell command prefix; the wrapper runs "
                    "CMD \"$CERTNAME\"")
    ap.add_argument("--self-test", action="store_true",
                    help="check the harness itself with fixtures/puppet/stub_enc.py")
    ap.add_argument("--jobs", "-j", type=int, default=2,
                    help="puppet runs at once (default 2)")
    ap.add_argument("--keep", action="store_true",
                    help="keep every case's directory, not only the failed ones")
    ap.add_argument("--no-facts", action="store_true",
                    help="run without facter (--facts_terminus=memory): ~2x faster")
    ap.add_argument("--timeout", type=int, default=120,
                    help="seconds per puppet run (default 120)")
    ap.add_argument("cases", nargs="*", help="case names or paths (default: all)")
    args = ap.parse_args()
    if args.self_test == bool(args.enc_cmd):
        ap.error("give --enc-cmd or --self-test")
    if shutil.which(PUPPET) is None:
        sys.exit("puppet_roundtrip: no puppet on PATH "
                 "(apt-get install --no-install-recommends puppet-agent)")

    if args.self_test:
        if args.cases:
            ap.error("--self-test runs the sample cases and fixtures/puppet/selftest/")
        items, bad = self_test_items()
    else:
        cases, bad = load_all(find_cases(args.cases))
        items = [(c["name"], c, args.enc_cmd, lambda r: r) for c in cases]
        if not cases and not bad:
            sys.exit("puppet_roundtrip: no cases")

    for name, why in bad:
        print("FAIL %s: bad case: %s" % (name, why))
    root = make_root()
    t0 = time.time()
    passed, failed, secs = run_all(max(1, args.jobs), items, root,
                                   not args.no_facts, args.timeout, args.keep)
    failed += len(bad)
    wall = time.time() - t0
    runs = len(items)
    if runs:
        print("# %d puppet runs, %.1f s each on average, %.1f s in all"
              % (runs, secs / runs, wall))
    if failed == 0 and not args.keep:
        shutil.rmtree(root, ignore_errors=True)
    elif os.listdir(root):
        print("# kept in %s" % root)
    else:
        os.rmdir(root)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
