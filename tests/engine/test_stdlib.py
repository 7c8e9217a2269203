"""The Workflows standard library: registry, argument binding and each function.

Expected values are the examples of Google's stdlib reference pages where they give one.
"""

from __future__ import annotations

from typing import Any

import pytest

from approvals.engine.runtime import stdlib
from approvals.engine.runtime.errors import WorkflowError
from approvals.engine.runtime.values import FunctionRef
from tests.engine.expr_host import FixedHost, LibraryContext, run


def call(name: str, *args: Any, host: FixedHost | None = None, **named: Any) -> Any:
    function = stdlib.lookup(name)
    assert function is not None, name
    return stdlib.call_pure(function, host or FixedHost(), stdlib.bind(function, list(args), named))


def fails(tag: str, name: str, *args: Any, **named: Any) -> str:
    with pytest.raises(WorkflowError) as caught:
        call(name, *args, **named)
    assert caught.value.tags == [tag], caught.value.value
    return caught.value.value["message"]


# ---- registry and binding -----------------------------------------------------


def test_bind_fills_defaults_and_accepts_names() -> None:
    function = stdlib.lookup("sys.get_env")
    assert function is not None
    assert stdlib.bind(function, ["X"]) == {"name": "X", "default": None}
    assert stdlib.bind(function, named={"name": "X", "default": "d"}) == {"name": "X", "default": "d"}
    assert stdlib.bind(function, ["X"], {"default": 1}) == {"name": "X", "default": 1}


@pytest.mark.parametrize(
    ("positional", "named", "problem"),
    [
        ([], {}, "missing required argument 'name'"),
        (["a", "b", "c"], {}, "at most 2 arguments"),
        ([], {"name": "a", "colour": 1}, "unexpected argument 'colour'"),
        (["a"], {"name": "b"}, "argument 'name' twice"),
    ],
)
def test_bind_errors_name_the_function_and_argument(
    positional: list[Any], named: dict[str, Any], problem: str
) -> None:
    function = stdlib.lookup("sys.get_env")
    assert function is not None
    with pytest.raises(WorkflowError) as caught:
        stdlib.bind(function, positional, named)
    assert caught.value.tags == ["TypeError"]
    assert "sys.get_env" in caught.value.value["message"]
    assert problem in caught.value.value["message"]


def test_unknown_names_are_not_functions() -> None:
    assert stdlib.lookup("text.shout") is None
    assert stdlib.lookup("googleapis.") is None
    with pytest.raises(LookupError):
        stdlib.global_value("http.nope")


def test_connectors_are_blocking_and_take_their_own_named_args() -> None:
    """Any googleapis.* connector call is blocking; its arguments are the API method's."""
    function = stdlib.lookup("googleapis.firestore.v1.projects.databases.documents.createDocument")
    assert function is not None and function.blocking and function.impl is None
    args = {"parent": "p", "collectionId": "c", "body": {"fields": {}}}
    assert stdlib.bind(function, named=args) == args
    with pytest.raises(WorkflowError):
        stdlib.bind(function, ["positional"])


@pytest.mark.parametrize(
    "name",
    [
        "http.get",
        "http.post",
        "http.put",
        "http.patch",
        "http.delete",
        "http.request",
        "sys.sleep",
        "sys.sleep_until",
        "events.create_callback_endpoint",
        "events.await_callback",
    ],
)
def test_blocking_functions_have_no_implementation(name: str) -> None:
    """Blocking calls "must be run from a call step" (Expressions, Blocking calls)."""
    function = stdlib.lookup(name)
    assert function is not None
    assert function.blocking and function.impl is None and not function.in_expressions
    with pytest.raises(WorkflowError):
        stdlib.call_pure(function, FixedHost(), {})


def test_sys_log_runs_but_not_inside_expressions() -> None:
    """Stdlib overview: "HTTP calls, sys.sleep, and sys.log cannot be used inside an expression"."""
    function = stdlib.lookup("sys.log")
    assert function is not None and not function.blocking and not function.in_expressions


def test_blocking_call_defaults() -> None:
    callback = stdlib.lookup("events.await_callback")
    endpoint = stdlib.lookup("events.create_callback_endpoint")
    post = stdlib.lookup("http.post")
    assert callback is not None and endpoint is not None and post is not None
    assert stdlib.bind(callback, named={"callback": {"url": "u"}})["timeout"] == 43200
    assert stdlib.bind(endpoint)["http_callback_method"] == "POST"
    bound = stdlib.bind(post, named={"url": "https://x", "body": {"a": 1}, "auth": {"type": "OIDC"}})
    # Unset optional arguments stay out of a blocking call's effect; real defaults go in.
    assert bound == {"url": "https://x", "timeout": 300, "auth": {"type": "OIDC"}, "body": {"a": 1}}


# ---- core expression helpers --------------------------------------------------


def test_default() -> None:
    """Expression helpers: default(val, defaultVal) returns val unless it is null."""
    assert call("default", None, "d") == "d"
    assert call("default", 0, "d") == 0
    assert call("default", False, True) is False


def test_keys_and_len() -> None:
    assert call("keys", {"b": 1, "a": 2}) == ["b", "a"]
    assert call("len", "héllo") == 5
    assert call("len", [1, 2, 3]) == 3
    assert call("len", {"a": 1}) == 1
    fails("TypeError", "len", 5)
    fails("TypeError", "keys", [1])


@pytest.mark.parametrize(
    ("value", "expected"),
    [(2.7, 2), (-2.7, -2), ("42", 42), (" -7 ", -7), (5, 5)],
)
def test_int(value: Any, expected: int) -> None:
    """Expression helpers: int() "Accepts an attribute of type string or double"."""
    assert call("int", value) == expected


@pytest.mark.parametrize(
    ("value", "tag"),
    [
        ("2.7", "ValueError"),
        ("x", "ValueError"),
        (True, "TypeError"),
        (None, "TypeError"),
        (1e30, "ValueError"),
        ("9" * 5000, "ValueError"),  # Python's own ValueError made it a SystemError
        ("-" + "1" * 20, "ValueError"),
    ],
)
def test_int_errors(value: Any, tag: str) -> None:
    fails(tag, "int", value)


def test_int_reads_past_leading_zeros() -> None:
    assert call("int", " -" + "0" * 5000 + "42 ") == -42
    assert call("int", "0" * 5000) == 0
    assert call("int", "-9223372036854775808") == -9223372036854775808


def test_double_and_string() -> None:
    """Cheat sheet: double("2.7"), string(1.7); string() takes integer, double or boolean."""
    assert call("double", "2.7") == 2.7
    assert call("double", 2) == 2.0 and isinstance(call("double", 2), float)
    assert call("string", 1.7) == "1.7"
    assert call("string", 42) == "42"
    assert call("string", True) == "true"
    assert call("string", "s") == "s"
    assert call("string", 1635892223.4459958) == "1635892223.4459958"
    fails("ValueError", "double", "abc")
    fails("TypeError", "string", {"a": 1})
    fails("TypeError", "string", None)


@pytest.mark.parametrize(
    ("value", "name"),
    [
        (None, "null"),
        (True, "boolean"),
        (1, "integer"),
        (1.0, "double"),
        ("s", "string"),
        (b"b", "bytes"),
        ([], "list"),
        ({}, "map"),
        (FunctionRef("retry.always"), "function"),
    ],
)
def test_get_type(value: Any, name: str) -> None:
    assert call("get_type", value) == name


def test_if() -> None:
    assert call("if", True, "yes", "no") == "yes"
    assert call("if", False, "yes", "no") == "no"
    fails("TypeError", "if", 1, "yes", "no")


# ---- sys, uuid ----------------------------------------------------------------


def test_sys_functions_use_the_host() -> None:
    host = FixedHost(environment={"APPROVERS": '["a@x"]'})
    assert call("sys.get_env", "APPROVERS", host=host) == '["a@x"]'
    assert call("sys.get_env", "MISSING", host=host) is None
    assert call("sys.get_env", "MISSING", "fallback", host=host) == "fallback"
    assert call("sys.now", host=host) == host.clock
    assert call("uuid.generate", host=host) == host.next_uuid
    call("sys.log", host=host, text="hello", severity="info")
    call("sys.log", host=host, json={"k": 1})
    assert host.logs == [("INFO", "hello"), ("DEFAULT", {"k": 1})]
    fails("ValueError", "sys.log", text="x", severity="LOUD")


# ---- text ---------------------------------------------------------------------


def test_text_find_all() -> None:
    """text.find_all: non-overlapping, code point indexes; ("00000", "00") -> [0, 2]."""
    assert call("text.find_all", "00000", "00") == [0, 2]
    assert call("text.find_all", "Hello World", "l") == [2, 3, 9]
    assert call("text.find_all", "abc", "z") == []


def test_text_regex_functions() -> None:
    """text.find_all_regex("HelloWorld", "Hello|World") -> [{index 0, Hello}, {index 5, World}]."""
    assert call("text.find_all_regex", "HelloWorld", "Hello|World") == [
        {"index": 0, "match": "Hello"},
        {"index": 5, "match": "World"},
    ]
    assert call("text.match_regex", "order-123", r"\d+") is True
    assert call("text.match_regex", "order", r"^\d+$") is False
    # "returns "three three"" -- text.replace_all_regex's example.
    assert call("text.replace_all_regex", "one two", "one|two", "three") == "three three"
    fails("ValueError", "text.match_regex", "x", "(")


@pytest.mark.parametrize("pattern", [r"(a)\1", r"a(?=b)", r"(?<!x)a", r"a++"])
def test_a_pattern_re2_refuses_is_a_value_error(pattern: str) -> None:
    """Regexes "Use RE2 syntax" and an invalid one raises "ValueError"
    (https://cloud.google.com/workflows/docs/reference/stdlib/text/replace_all_regex); RE2 has no
    backreferences, lookarounds or possessive quantifiers (https://github.com/google/re2/wiki/Syntax)."""
    for name in ("text.find_all_regex", "text.match_regex"):
        assert "invalid regular expression" in fails("ValueError", name, "aab", pattern)
    fails("ValueError", "text.replace_all_regex", "aab", pattern, "x")


def test_regex_matches_behave_as_re2s() -> None:
    """ "If multiple matches start at the same index, then the longest one is replaced", and
    "Backreferences are not supported. For example, you can't use the expression \\1" in repl
    (https://cloud.google.com/workflows/docs/reference/stdlib/text/replace_all_regex). RE2's `$`
    matches only at the end of the text, not before a final newline
    (https://github.com/google/re2/wiki/Syntax)."""
    assert call("text.replace_all_regex", "abab", "a|ab", "-") == "--"
    assert call("text.find_all_regex", "abab", "a|ab") == [
        {"index": 0, "match": "ab"},
        {"index": 2, "match": "ab"},
    ]
    assert call("text.replace_all_regex", "2024-01-10", r"(\d+)-(\d+)", r"\2") == r"\2-10"
    assert call("text.match_regex", "abc\n", r"^abc$") is False
    assert call("text.find_all_regex", "héllo wörld", r"\pL+") == [
        {"index": 0, "match": "héllo"},
        {"index": 6, "match": "wörld"},
    ]


def test_empty_regex_matches_follow_re2s_global_replace() -> None:
    """RE2's GlobalReplace, which Go's regexp and the cloud share, skips an empty match right
    where the previous match ended (https://github.com/google/re2/blob/main/re2/re2.cc);
    Python's iteration keeps it, which made "-a--b-" of "axb" and listed an empty match at
    index 3 of "axxb"."""
    assert call("text.replace_all_regex", "axb", "x*", "-") == "-a-b-"
    assert call("text.find_all_regex", "axxb", "x*") == [
        {"index": 0, "match": ""},
        {"index": 1, "match": "xx"},
        {"index": 4, "match": ""},
    ]
    assert call("text.replace_all_regex", "", "x*", "-") == "-"
    assert call("text.replace_all_regex", "abc", "x", "-") == "abc"


def test_text_plain_functions() -> None:
    assert call("text.replace_all", "a-b-c", "-", "+") == "a+b+c"
    assert call("text.split", "a,b,,c", ",") == ["a", "b", "", "c"]
    assert call("text.substring", "Hello World", 6, 11) == "World"
    assert call("text.substring", "Hello", 3, 99) == "lo"
    assert call("text.substring", "Hello", 4, 2) == ""
    assert call("text.to_lower", "ÀbC") == "àbc"
    assert call("text.to_upper", "àbc") == "ÀBC"
    fails("TypeError", "text.split", 5, ",")
    fails("TypeError", "text.substring", "abc", "1", 2)


def test_text_url_encoding() -> None:
    """text.url_encode("a/b/c?item=d+e f") returns "a%2Fb%2Fc%3Fitem%3Dd%2Be%20f"."""
    assert call("text.url_encode", "a/b/c?item=d+e f") == "a%2Fb%2Fc%3Fitem%3Dd%2Be%20f"
    assert call("text.url_encode_plus", "a b&c") == "a+b%26c"
    assert call("text.url_encode", "é~") == "%C3%A9%7E"
    # url_decode reference: "Plus signs (+) are replaced with spaces."
    assert call("text.url_decode", "a%2Fb%20c+d") == "a/b c d"


def test_text_encode_and_decode() -> None:
    """Workflows errors: json.decode(text.encode(ERROR_FROM_API)) restores an error map."""
    data = call("text.encode", '{"code": 7}')
    assert data == b'{"code": 7}'
    assert call("json.decode", data) == {"code": 7}
    assert call("text.decode", "é".encode("utf-16"), "UTF-16") == "é"
    assert call("text.encode", "é", "ISO-8859-1") == b"\xe9"
    # text.decode reference: an undecodable byte becomes U+FFFD.
    assert call("text.decode", b"a\xffb", "UTF-8") == "a\ufffdb"
    # "Each byte that cannot be correctly decoded ... is represented in the output by the
    # \uFFFD codepoint" (https://cloud.google.com/workflows/docs/reference/stdlib/text/decode):
    # a truncated 3-byte sequence is two bytes, so two of them.
    assert call("text.decode", b"a\xe2\x82b", "UTF-8") == "a\ufffd\ufffdb"
    assert call("text.decode", b"a\x00b", "UTF-16-LE") == "a\ufffd"
    fails("ValueError", "text.encode", "x", "NO-SUCH-CHARSET")
    fails("TypeError", "text.decode", "not bytes")


# ---- json ---------------------------------------------------------------------


def test_json_decode() -> None:
    assert call("json.decode", '{"a": [1, 2.5, true, null]}') == {"a": [1, 2.5, True, None]}
    assert isinstance(call("json.decode", "3"), int)
    fails("ValueError", "json.decode", "{not json")
    fails("ValueError", "json.decode", "NaN")
    fails("ValueError", "json.decode", "99999999999999999999")
    fails("TypeError", "json.decode", 5)


def test_json_encode() -> None:
    """json.encode gives UTF-8 bytes; encode_to_string the same as text; bytes can't be encoded."""
    assert call("json.encode", {"key1": "hello"}) == b'{"key1":"hello"}'
    assert call("json.encode_to_string", {"é": [1, 2.5, None]}) == '{"é":[1,2.5,null]}'
    assert call("json.encode_to_string", {"a": [1]}, True) == '{\n    "a": [\n        1\n    ]\n}'
    assert call("json.encode_to_string", {"a": 1}, {"prefix": "> ", "indent": "\t"}) == '{\n> \t"a": 1\n> }'
    assert call("json.encode_to_string", [1], False) == "[1]"
    fails("ValueError", "json.encode", {"b": b"bytes"})
    fails("TypeError", "json.encode", {"a": 1}, "yes")


# ---- map, list, math ----------------------------------------------------------


def test_map_get() -> None:
    """map.get: "returning null if the key is not found"; a list of keys drills down."""
    m = {"key1": "hello", "key2": "world", "nested": {"inner": 1}}
    assert call("map.get", m, "key2") == "world"
    assert call("map.get", m, "missing") is None
    assert call("map.get", m, ["nested", "inner"]) == 1
    assert call("map.get", m, ["key1", "inner"]) is None
    assert call("map.get", None, "k") is None
    fails("TypeError", "map.get", m, 1)
    fails("TypeError", "map.get", m, ["a", 2])


def test_map_delete_and_merge() -> None:
    original = {"a": 1, "b": {"x": 1, "y": 2}}
    assert call("map.delete", original, "a") == {"b": {"x": 1, "y": 2}}
    assert call("map.delete", original, "zzz") == original
    assert original == {"a": 1, "b": {"x": 1, "y": 2}}
    assert call("map.merge", original, {"b": {"x": 9}, "c": 3}) == {"a": 1, "b": {"x": 9}, "c": 3}
    assert call("map.merge_nested", original, {"b": {"x": 9}, "c": 3}) == {
        "a": 1,
        "b": {"x": 9, "y": 2},
        "c": 3,
    }
    fails("TypeError", "map.merge", original, [1])


def test_list_concat_and_prepend() -> None:
    """Cheat sheet: `my_list: ${list.concat(my_list, 3)}` appends one value."""
    items = [1, 2]
    assert call("list.concat", items, 3) == [1, 2, 3]
    assert call("list.concat", items, [3]) == [1, 2, [3]]
    assert call("list.prepend", items, 0) == [0, 1, 2]
    assert items == [1, 2]
    fails("TypeError", "list.concat", "ab", "c")


def test_math() -> None:
    assert call("math.abs", -3) == 3 and call("math.abs", -2.5) == 2.5
    assert call("math.floor", 2.7) == 2 and call("math.floor", -2.5) == -3
    assert isinstance(call("math.floor", 2.0), int)
    assert call("math.max", 1, 2.5) == 2.5
    assert call("math.min", -1, 3) == -1
    fails("TypeError", "math.abs", "1")
    fails("TypeError", "math.max", True, 1)


# ---- time ---------------------------------------------------------------------


def test_time_format() -> None:
    """time.format reference: ISO 8601 "up to a microsecond precision", e.g.
    "2024-01-10T16:15:54.615087Z"; the timezone defaults to UTC; whole seconds keep their six
    digits, as its examples show ("2024-07-12T12:50:33.000000Z", "...T14:50:33.000000+02:00")."""
    assert call("time.format", 1704903354.615087) == "2024-01-10T16:15:54.615087Z"
    assert call("time.format", 1720788633) == "2024-07-12T12:50:33.000000Z"
    assert call("time.format", 1720788633, "Europe/Berlin") == "2024-07-12T14:50:33.000000+02:00"
    assert call("time.format", 0) == "1970-01-01T00:00:00.000000Z"
    assert call("time.format", 0, "") == "1970-01-01T00:00:00.000000Z"
    assert call("time.format", 1704903354, "Europe/Paris") == "2024-01-10T17:15:54.000000+01:00"
    fails("ValueError", "time.format", 0, "Mars/Olympus")
    fails("TypeError", "time.format", "now")


@pytest.mark.parametrize("seconds", [1e300, -1e300, 9223372036854775807, 253402300800])
def test_time_format_past_the_year_9999_is_a_value_error(seconds: float) -> None:
    """A moment RFC 3339 cannot write (Python's OverflowError made it a SystemError before)."""
    assert "between the years 1 and 9999" in fails("ValueError", "time.format", seconds)


def test_time_parse() -> None:
    assert call("time.parse", "2024-01-10T16:15:54.615087Z") == pytest.approx(1704903354.615087)
    assert call("time.parse", "1970-01-01T01:00:00+01:00") == 0.0
    assert isinstance(call("time.parse", "1970-01-01T00:00:00Z"), float)
    fails("ValueError", "time.parse", "yesterday")
    fails("ValueError", "time.parse", "2024-01-10T16:15:54")


# ---- base64, hash -------------------------------------------------------------


def test_base64() -> None:
    assert call("base64.encode", b"hi") == "aGk="
    assert call("base64.encode", b"hi", False) == "aGk"
    assert call("base64.decode", "aGk=") == b"hi"
    assert call("base64.decode", "aGk", False) == b"hi"
    fails("ValueError", "base64.decode", "!!!")
    fails("TypeError", "base64.encode", "text")


def test_hash_checksum_matches_the_documented_example() -> None:
    """hash.compute_checksum: SHA256 of "Hello World" is "pZGm1Av0IEBKARczz7exkNYsZb8LzaMrV7J32a2fFG4="
    in Base64."""
    digest = run('base64.encode(hash.compute_checksum(text.encode("Hello World", "UTF-8"), "SHA256"))')
    assert digest == "pZGm1Av0IEBKARczz7exkNYsZb8LzaMrV7J32a2fFG4="
    assert len(call("hash.compute_checksum", b"x", "MD5")) == 16
    fails("ValueError", "hash.compute_checksum", b"x", "CRC32")
    fails("TypeError", "hash.compute_checksum", "x", "SHA1")


def test_hash_hmac() -> None:
    # RFC 4231 test case 2.
    mac = call("hash.compute_hmac", b"Jefe", b"what do ya want for nothing?", "SHA256")
    assert mac.hex() == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    fails("TypeError", "hash.compute_hmac", "key", b"data", "SHA256")


# ---- retry --------------------------------------------------------------------


HTTP_429 = {"tags": ["HttpError"], "code": 429, "message": "Too Many Requests", "body": "", "headers": {}}
HTTP_500 = {"tags": ["HttpError"], "code": 500, "message": "Internal Server Error"}
HTTP_502 = {"tags": ["HttpError"], "code": 502, "message": "Bad Gateway"}
HTTP_503 = {"tags": ["HttpError"], "code": 503, "message": "Service Unavailable"}
HTTP_504 = {"tags": ["HttpError"], "code": 504, "message": "Gateway Timeout"}
CONNECTION = {"tags": ["ConnectionError"], "message": "connection reset"}
CONNECTION_FAILED = {"tags": ["ConnectionFailedError"], "message": "connection refused"}
TIMEOUT = {"tags": ["TimeoutError"], "message": "deadline exceeded"}
KEY = {"tags": ["KeyError"], "message": "key not found"}


@pytest.mark.parametrize(
    ("error", "idempotent", "non_idempotent"),
    [
        (HTTP_429, True, True),
        (HTTP_500, False, False),
        (HTTP_502, True, False),
        (HTTP_503, True, True),
        (HTTP_504, True, False),
        (CONNECTION, True, False),
        (CONNECTION_FAILED, True, True),
        (TIMEOUT, True, False),
        (KEY, False, False),
        ("a raised string", False, False),
    ],
)
def test_default_retry_predicates(error: Any, idempotent: bool, non_idempotent: bool) -> None:
    """http.default_retry_predicate: 429, 502, 503, 504, ConnectionError, ConnectionFailedError,
    TimeoutError. ..._non_idempotent: 429, 503 and ConnectionFailedError only."""
    assert call("http.default_retry_predicate", error) is idempotent
    assert call("http.default_retry_predicate_non_idempotent", error) is non_idempotent


def test_retry_always_and_never() -> None:
    assert call("retry.always", KEY) is True
    assert call("retry.never", HTTP_503) is False


@pytest.mark.parametrize(
    ("name", "predicate"),
    [
        ("http.default_retry", "http.default_retry_predicate"),
        ("http.default_retry_non_idempotent", "http.default_retry_predicate_non_idempotent"),
    ],
)
def test_default_retry_policies(name: str, predicate: str) -> None:
    """http.default_retry*: "Uses max_retries of 5, and backoff as per retry.default_backoff"
    (initial 1 s, max 1 minute, multiplier 1.25)."""
    assert stdlib.global_value(name) == {
        "predicate": FunctionRef(predicate),
        "max_retries": 5,
        "backoff": {"initial_delay": 1, "max_delay": 60, "multiplier": 1.25},
    }


def test_library_values_are_fresh_copies() -> None:
    policy = stdlib.global_value("http.default_retry")
    policy["backoff"]["multiplier"] = 99
    assert stdlib.global_value("http.default_retry")["backoff"]["multiplier"] == 1.25


def test_predicate_is_callable_through_a_context() -> None:
    ctx = LibraryContext()
    ref = stdlib.global_value("http.default_retry_predicate")
    assert ctx.call(ref.name, [HTTP_503]) is True
