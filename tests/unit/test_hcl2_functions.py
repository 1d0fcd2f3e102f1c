"""Function behaviour, with cases transcribed from go-cty's ``function/stdlib/*_test.go`` tables
(written here as HCL expressions: call, expected result or the expected error text)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from imagesmith.hcl2.diagnostics import Diagnostics
from imagesmith.hcl2.evaluator import EvalContext, evaluate
from imagesmith.hcl2.functions import standard_functions
from imagesmith.hcl2.parser import parse_expression
from imagesmith.hcl2.types import STRING
from imagesmith.hcl2.values import Value, from_python, unknown_val


def run(src: str, variables: dict[str, Value] | None = None) -> tuple[Value, Diagnostics]:
    expr, diags = parse_expression(src)
    assert not diags.has_errors(), [str(d) for d in diags]
    ctx = EvalContext({"unknown": unknown_val(STRING), **(variables or {})}, standard_functions())
    return evaluate(expr, ctx, diags), diags


def check(call: str, want: str) -> None:
    got, diags = run(call)
    if want.startswith("ERROR "):
        assert diags.has_errors(), f"{call} should fail, gave {got!r}"
        text = " ".join(f"{d.summary}: {d.detail}" for d in diags)
        assert want[6:] in text
        return
    assert not diags.has_errors(), [str(d) for d in diags]
    expected, _ = run(want)
    assert got.raw_equals(expected), f"{call} = {got!r}, want {expected!r}"


# format_test.go
FORMAT = [
    ('format("")', '""'),
    ('format("100%% successful")', '"100% successful"'),
    ('format("string %v", "hello")', '"string hello"'),
    ('format("string %[2]v", true, "hello")', '"string hello"'),
    ('format("string %#v", "hello")', '"string \\"hello\\""'),
    ('format("number %v", 2)', '"number 2"'),
    ('format("bool %#v", true)', '"bool true"'),
    ('format("object %v", {})', '"object {}"'),
    ('format("tuple %v", [])', '"tuple []"'),
    ('format("%%%v", false)', '"%false"'),
    ('format("%v", null)', '"null"'),
    ('format("Hello, %[2]s!", "Stephen", "Ermintrude")', '"Hello, Ermintrude!"'),
    ('format("Hello, %q... if that _is_ your real name!", "Ermintrude")',
     '"Hello, \\"Ermintrude\\"... if that _is_ your real name!"'),
    ('format("This statement is %s", false)', '"This statement is false"'),
    ('format("%10s", "hello")', '"     hello"'),
    ('format("%-10s", "hello")', '"hello     "'),
    ('format("%4s", "💃🏿")', '"   💃🏿"'),
    ('format("%.2s", "hello")', '"he"'),
    ('format("%.5s", "日本語日本語")', '"日本語日本"'),
    ('format("%4.2s", "hello")', '"  he"'),
    ('format("%-4.2s", "hello")', '"he  "'),
    ('format("%q", "Hello\\nWorld")', '"\\"Hello\\\\nWorld\\""'),
    ('format("This statement is %[2]t", true, false)', '"This statement is false"'),
    ('format("This statement is %t", "false")', '"This statement is false"'),
    ('format("%d green bottles", 10)', '"10 green bottles"'),
    ('format("%+d", 10)', '"+10"'),
    ('format("% d", 10)', '" 10"'),
    ('format("%5d", 10)', '"   10"'),
    ('format("%-5d|", 10)', '"10   |"'),
    ('format("%b", 5)', '"101"'),
    ('format("%o", 9)', '"11"'),
    ('format("%x", 254)', '"fe"'),
    ('format("%X", 254)', '"FE"'),
    ('format("%f things", 10)', '"10.000000 things"'),
    ('format("%+f", -10)', '"-10.000000"'),
    ('format("%f", "100000000000000000000000000000000000001")', '"100000000000000000000000000000000000001.000000"'),
    ('format("%.4f", "1.00000000000000000000000000000000000001")', '"1.0000"'),
    ('format("%.1f", "1.06")', '"1.1"'),
    ('format("%e", 1000)', '"1.000000e+03"'),
    ('format("%E", 1000)', '"1.000000E+03"'),
    ('format("%g", 1000)', '"1000"'),
    ('format("%g", "0.00000000000000000000001")', '"1e-23"'),
    ('format("%G", "0.00000000000000000000001")', '"1E-23"'),
    ('format("%v", 1000000)', '"1e+06"'),
    ('format("%[3]s", true, true)', 'ERROR not enough arguments for "%[3]s" at 0: need index 3 but have 2 total'),
    ('format("%v %v %v", true, true)', 'ERROR not enough arguments for "%v" at 6: need index 3 but have 2 total'),
    ('format("%z is not valid", 10)', "ERROR unsupported format verb 'z' in \"%z\" at offset 0"),
    ('format("%012z", 10)', "ERROR unsupported format verb 'z' in \"%012z\" at offset 0"),
    ('format("no verbs", 10)', "ERROR too many arguments; no verbs in format string"),
    ('format("only one verb %d", 10, 11)', "ERROR too many arguments; only 1 used by format string"),
    ('format("%d", true)', "ERROR unsupported value for \"%d\" at 0: number required"),
    ('format("%d", 1.5)', "ERROR unsupported value for \"%d\" at 0: an integer is required"),
    ('formatlist("%s=%s", ["a", "b"], ["x", "y"])', 'tolist(["a=x", "b=y"])'),
    ('formatlist("%s-%s", "a", ["x", "y"])', 'tolist(["a-x", "a-y"])'),
    ('formatlist("%s", ["a"], ["x", "y"])', "ERROR argument 2 has length 2, which is inconsistent with argument 1"),
]

STRINGS = [
    ('upper("hello")', '"HELLO"'),
    ('lower("HELLO ÀB")', '"hello àb"'),
    ('title("hello world-wide")', '"Hello World-Wide"'),
    ('strrev("hello")', '"olleh"'),
    ('strrev("👩‍👩‍👧‍👦a")', '"a👩‍👩‍👧‍👦"'),
    ('trimspace("  \\n hello \\t")', '"hello"'),
    ('trim("?!hello?!", "!?")', '"hello"'),
    ('trimprefix("helloworld", "hello")', '"world"'),
    ('trimsuffix("helloworld", "world")', '"hello"'),
    ('chomp("hello\\r\\n\\n")', '"hello"'),
    ('chomp("hello\\nworld")', '"hello\\nworld"'),
    ('indent(2, "a\\nb\\n")', '"a\\n  b\\n  "'),
    ('substr("hello world", 1, 4)', '"ello"'),
    ('substr("hello world", -5, -1)', '"world"'),
    ('substr("🤔🚀", 0, 1)', '"🤔"'),
    ('substr("hello", 10, 1)', '""'),
    ('join("-", ["a", "b"], ["c"])', '"a-b-c"'),
    ('join(", ", [])', '""'),
    ('split(",", "a,b,,c")', 'tolist(["a", "b", "", "c"])'),
    ('split(",", "")', 'tolist([""])'),
    ('replace("hello world", "o", "0")', '"hell0 w0rld"'),
    ('replace("hello world", "/o(r)?/", "[$1]")', '"hello world"'),  # no regex form in Packer's replace
    ('regex_replace("hello world", "o(r)?", "[$1]")', '"hell[] w[r]ld"'),
    ('regex_replace("a1b22", "[0-9]+", "#")', '"a#b#"'),
    ('regex("[a-z]+", "53453453.345345aaabbbccc23454")', '"aaabbbccc"'),
    ('regex("(\\\\d\\\\d\\\\d\\\\d)-(\\\\d\\\\d)", "2019-02-01")', 'tolist(["2019", "02"])'),
    ('regex("(?P<y>\\\\d+)-(?P<m>\\\\d+)", "2019-02")', '{m = "02", y = "2019"}'),
    ('regex("x", "abc")', "ERROR pattern did not match any part of the given string"),
    ('regexall("[a-z]+", "1a2bb3")', 'tolist(["a", "bb"])'),
    ('length(regexall("z", "abc"))', "0"),
    ('strcontains("hello", "ell")', "true"),
    ('startswith("hello", "he")', "true"),
    ('endswith("hello", "he")', "false"),
    ('length("👩‍👩‍👧‍👦 ab")', "4"),
]

NUMBERS = [
    ("abs(-1.5)", "1.5"),
    ("ceil(1.2)", "2"),
    ("floor(-1.2)", "-2"),
    ("max(1, 5, 3)", "5"),
    ("min(1, -5, 3)", "-5"),
    ("max()", "ERROR must pass at least one number"),
    ("signum(-3)", "-1"),
    ("pow(2, 10)", "1024"),
    ("log(8, 2)", "3"),
    ('parseint("100", 10)', "100"),
    ('parseint("FF", 16)', "255"),
    ('parseint("-1010", 2)', "-10"),
    ('parseint("zz", 36)', "1295"),
    ('parseint("12", 2)', 'ERROR cannot parse "12" as a base 2 integer'),
    ("sum([1, 2, 3.5])", "6.5"),
    ("1 / 3 * 3", "1"),
    ("0.1 + 0.2 == 0.3", "true"),
]

COLLECTIONS = [
    ("length([1, 2])", "2"),
    ('length({a = 1})', "1"),
    ("concat([1], [2, 3])", "[1, 2, 3]"),
    ('concat(tolist(["a"]), tolist(["b"]))', 'tolist(["a", "b"])'),
    ("merge({a = 1}, {b = 2}, {a = 3})", "{a = 3, b = 2}"),
    ('merge(tomap({a = "x"}), null)', 'tomap({a = "x"})'),
    ("keys({b = 1, a = 2})", '["a", "b"]'),
    ('keys(tomap({b = 1, a = 2}))', 'tolist(["a", "b"])'),
    ("values({b = 1, a = 2})", "[2, 1]"),
    ('lookup({a = "x"}, "a")', '"x"'),
    ('lookup(tomap({a = "x"}), "b", "d")', '"d"'),
    ('lookup({a = "x"}, "b")', 'ERROR the given object has no attribute "b"'),
    ('element(["a", "b"], 3)', '"b"'),
    ('element([], 0)', "ERROR cannot use element function with an empty list"),
    ('element(["a"], -1)', "ERROR cannot use element function with a negative index"),
    ('contains(["a", "b"], "b")', "true"),
    ('contains(["a", "b"], "c")', "false"),
    ("flatten([[1, [2]], [], [3]])", "[1, 2, 3]"),
    ('distinct(["a", "b", "a"])', 'tolist(["a", "b"])'),
    ('coalesce(null, "", "x")', '"x"'),
    ("coalesce(null, 1, 2)", "1"),
    ('coalescelist([], ["a"])', '["a"]'),
    ('compact(["a", "", "b"])', 'tolist(["a", "b"])'),
    ("range(3)", "tolist([0, 1, 2])"),
    ("range(1, 4, 2)", "tolist([1, 3])"),
    ("range(3, 0)", "tolist([3, 2, 1])"),
    ('index(["a", "b"], "b")', "1"),
    ('reverse([1, 2, 3])', "[3, 2, 1]"),
    ("slice([1, 2, 3, 4], 1, 3)", "[2, 3]"),
    ('sort(["b", "c", "a"])', 'tolist(["a", "b", "c"])'),
    ('chunklist(tolist([1, 2, 3]), 2)', "tolist([tolist([1, 2]), tolist([3])])"),
    ('zipmap(["a", "b"], [1, 2])', "{a = 1, b = 2}"),
    ('setunion(toset(["a"]), toset(["b", "a"]))', 'toset(["a", "b"])'),
    ('setintersection(toset(["a", "b"]), toset(["b"]))', 'toset(["b"])'),
    ("alltrue([true, true])", "true"),
    ("anytrue([false])", "false"),
]

CONVERSIONS = [
    ("tostring(5)", '"5"'),
    ("tostring(true)", '"true"'),
    ('tonumber("5.5")', "5.5"),
    ('tonumber("x")', 'ERROR cannot convert "x" to number'),
    ('tobool("true")', "true"),
    ('tolist(["a", 1])', 'tolist(["a", "1"])'),
    ('toset(["b", "a", "b"])', 'toset(["a", "b"])'),
    ('tomap({a = 1, b = "x"})', 'tomap({a = "1", b = "x"})'),
    ('try(tonumber("x"), 7)', "7"),
    ('can(tonumber("x"))', "false"),
    ("can(1)", "true"),
]

ENCODING = [
    ('base64encode("Hello World")', '"SGVsbG8gV29ybGQ="'),
    ('base64decode("SGVsbG8gV29ybGQ=")', '"Hello World"'),
    ('base64decode("%%")', 'ERROR failed to decode base64 data'),
    ('urlencode("foo:bar@localhost?foo=bar&bar=baz")', '"foo%3Abar%40localhost%3Ffoo%3Dbar%26bar%3Dbaz"'),
    ('md5("hello world")', '"5eb63bbbe01eeed093cb22bb8f5acdc3"'),
    ('sha1("test")', '"a94a8fe5ccb19ba61c4c0873d391e987982fbbd3"'),
    ('sha256("hello world")', '"b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"'),
    ('uuidv5("dns", "tada")', '"faa898db-9b9d-5b75-86a9-149e7bb8e3b8"'),
    ('jsonencode({a = [1, "x", true, null]})', '"{\\"a\\":[1,\\"x\\",true,null]}"'),
    ('jsonencode("<&>")', '"\\"\\\\u003c\\\\u0026\\\\u003e\\""'),
    ('jsondecode("{\\"a\\": [1, 2.5]}")', "{a = [1, 2.5]}"),
    ('jsondecode("[")', 'ERROR Call to function "jsondecode" failed'),
    ('csvdecode("a,b\\n1,2\\n")', 'tolist([{a = "1", b = "2"}])'),
]

TIME = [
    ('formatdate("DD MMM YYYY hh:mm ZZZ", "2018-01-02T23:12:01Z")', '"02 Jan 2018 23:12 UTC"'),
    ('formatdate("EEEE, DD-MMM-YY hh:mm:ss ZZZ", "2018-01-02T23:12:01-08:00")',
     '"Tuesday, 02-Jan-18 23:12:01 -0800"'),
    ('formatdate("h:mm aa", "2018-01-02T23:12:01Z")', '"23:12 pm"'),
    ("formatdate(\"'Date:' YYYY\", \"2018-01-02T23:12:01Z\")", '"Date: 2018"'),
    ('formatdate("YYYY", "not a date")', "ERROR not a valid RFC3339 timestamp"),
    ('timeadd("2017-11-22T00:00:00Z", "1h10m")', '"2017-11-22T01:10:00Z"'),
    ('timeadd("2017-11-22T00:00:00Z", "-1s")', '"2017-11-21T23:59:59Z"'),
]


@pytest.mark.parametrize(("call", "want"), FORMAT + STRINGS + NUMBERS + COLLECTIONS + CONVERSIONS + ENCODING + TIME)
def test_function(call: str, want: str) -> None:
    check(call, want)


def test_unknown_arguments_give_unknown_results() -> None:
    for call in ('upper(unknown)', 'format("%s!", unknown)', 'join(",", [unknown])', "length(unknown)"):
        got, diags = run(call)
        assert not diags.has_errors()
        assert not got.is_known, call


def test_sensitive_marks_follow_through_functions() -> None:
    secret = from_python("s3cret").with_marks({"sensitive"})
    got, _ = run('upper(var.p)', {"var": from_python({"p": secret})})
    assert got.marks == {"sensitive"} and got.as_str() == "S3CRET"
    got, _ = run('"x-${var.p}"', {"var": from_python({"p": secret})})
    assert got.marks == {"sensitive"}


def test_timestamp_is_rfc3339_utc() -> None:
    got, _ = run("timestamp()")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", got.as_str())


def test_uuidv4_is_random_v4() -> None:
    a, _ = run("uuidv4()")
    b, _ = run("uuidv4()")
    assert a.as_str() != b.as_str() and a.as_str()[14] == "4"


def test_file_functions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "a.txt").write_text("hello ${name}")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.txt").write_text("x")
    monkeypatch.chdir(tmp_path)
    check('file("a.txt")', '"hello $${name}"')
    check('fileexists("a.txt")', "true")
    check('fileexists("nope.txt")', "false")
    check('fileset(".", "**/*.txt")', 'toset(["a.txt", "sub/b.txt"])')
    check('templatefile("a.txt", {name = "world"})', '"hello world"')
    check('basename("/a/b/c.txt")', '"c.txt"')
    check('dirname("/a/b/c.txt")', '"/a/b"')
    check('filebase64("sub/b.txt")', '"eA=="')
    check('file("nope.txt")', "ERROR no file exists at nope.txt")
    got, _ = run('abspath("a.txt")')
    assert got.as_str() == str(tmp_path / "a.txt")
    got, _ = run('pathexpand("~/x")')
    assert got.as_str() == str(Path.home() / "x")


NETWORK_AND_MORE = [
    ('cidrhost("10.12.112.0/20", 16)', '"10.12.112.16"'),
    ('cidrhost("10.12.112.0/20", 268)', '"10.12.113.12"'),
    ('cidrhost("10.12.112.0/20", -1)', '"10.12.127.255"'),
    ('cidrhost("fd00:fd12:3456:7890:00a2::/72", 34)', '"fd00:fd12:3456:7890::22"'),
    ('cidrhost("10.0.0.0/30", 5)', "ERROR prefix of 30 bits cannot accommodate a host numbered 5"),
    ('cidrnetmask("172.16.0.0/12")', '"255.240.0.0"'),
    ('cidrsubnet("172.16.0.0/12", 4, 2)', '"172.18.0.0/16"'),
    ('cidrsubnet("10.1.2.0/24", 4, 15)', '"10.1.2.240/28"'),
    ('cidrsubnet("fd00:fd12:3456:7890::/56", 16, 162)', '"fd00:fd12:3456:7800:a200::/72"'),
    ('cidrsubnets("10.1.0.0/16", 4, 4, 8, 4)',
     'tolist(["10.1.0.0/20", "10.1.16.0/20", "10.1.32.0/24", "10.1.48.0/20"])'),
    ('setproduct(["a", "b"], ["x"])', 'tolist([["a", "x"], ["b", "x"]])'),
    ('convert(["a", "b"], set(string))', 'toset(["a", "b"])'),
    ('convert("5", number)', "5"),
]


@pytest.mark.parametrize(("call", "want"), NETWORK_AND_MORE)
def test_network_and_more_functions(call: str, want: str) -> None:
    check(call, want)


def test_function_count() -> None:
    # Packer HEAD's 103 (+ env, only in variable defaults) and cty's to* conversions, which it does not list
    packer_head = {*PACKER_HEAD_FUNCTIONS.split()}
    assert len(packer_head) == 103
    assert set(standard_functions()) == packer_head | {"tobool", "tolist", "tomap", "tonumber", "toset", "tostring"}


PACKER_HEAD_FUNCTIONS = """
abs abspath alltrue anytrue aws_secretsmanager aws_secretsmanager_raw base64decode base64encode base64gzip
basename bcrypt can ceil chomp chunklist cidrhost cidrnetmask cidrsubnet cidrsubnets coalesce coalescelist compact
concat consul_key contains convert csvdecode dirname distinct element endswith file filebase64 fileexists fileset
flatten floor format formatdate formatlist indent index join jsondecode jsonencode keys legacy_isotime
legacy_strftime length log lookup lower max md5 merge min parseint pathexpand pow range regex regex_replace regexall
replace reverse rfc3339_parse rsadecrypt setintersection setproduct setunion sha1 sha256 sha512 signum slice sort
split startswith strcontains strrev substr sum templatefile textdecodebase64 textencodebase64 timeadd timestamp title
trim trimprefix trimspace trimsuffix try unix_timestamp_parse upper urlencode uuidv4 uuidv5 values vault yamldecode
yamlencode zipmap
"""


PACKER_OWN = [
    ('rfc3339_parse("2023-05-01T10:20:30Z").unix', "1682936430"),
    ('rfc3339_parse("2023-05-01T10:20:30Z").weekday_name', '"Monday"'),
    ('rfc3339_parse("2023-01-01T00:00:00+02:00").iso_week', "52"),
    ('rfc3339_parse("nope")', 'ERROR "nope" is not a valid RFC3339 timestamp'),
    ("unix_timestamp_parse(0).rfc3339", '"1970-01-01T00:00:00Z"'),
    ("unix_timestamp_parse(1682936430).year_day", "121"),
    ('index([], "a")', "ERROR cannot search an empty list"),
    ('index(["a", "b"], "c")', "ERROR item not found"),
]


@pytest.mark.parametrize(("call", "want"), PACKER_OWN)
def test_packer_own_functions(call: str, want: str) -> None:
    check(call, want)


def test_bcrypt_hashes_verify() -> None:
    import warnings

    got, diags = run('bcrypt("hello", 5)')
    assert not diags, [str(d) for d in diags]
    hashed = got.as_str()
    assert hashed.startswith("$2a$05$") and len(hashed) == 60
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import crypt

    assert crypt.crypt("hello", hashed) == hashed
    check('bcrypt("x", 3)', "ERROR bcrypt: cost 3 is outside allowed range (4,31)")


def test_rsadecrypt_round_trip() -> None:
    import base64

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                            serialization.NoEncryption()).decode()
    cipher = base64.b64encode(key.public_key().encrypt(b"s3cret", padding.PKCS1v15())).decode()
    got, diags = run("rsadecrypt(var.c, var.k)", {"var": from_python({"c": cipher, "k": pem})})
    assert not diags and got.as_str() == "s3cret"
    check('rsadecrypt("!!", "x")', "ERROR cipher text must be base64-encoded")
