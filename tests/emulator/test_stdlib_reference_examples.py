"""The examples of Google's Workflows standard library reference, run on the local engine.

Each case is the documented input and the documented output of one example (or of an
example sentence in the function's description) on the page it cites, written here as
an expression or a small workflow. `test_every_function_is_covered_or_explained`
keeps the list honest: each function the engine implements has an example here, or a
reason why not.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from approvals.emulator.pubsub import PubSubEmulator
from approvals.engine.language.definition import parse
from approvals.engine.runtime import stdlib
from approvals.engine.runtime.clock import VirtualClock
from approvals.engine.runtime.connectors import ConnectorSettings, call_connector
from approvals.engine.runtime.effects import CallEffect, SleepEffect
from approvals.engine.runtime.engine import Engine
from approvals.engine.runtime.errors import DefinitionError, WorkflowError
from approvals.engine.runtime.store import Store
from approvals.engine.runtime.tokens import StaticTokens
from tests.engine.expr_host import run
from tests.engine.interpreter_support import START, Driver, TestHost, failing
from tests.engine.interpreter_support import result_of as interpreted_result
from tests.support import PROJECT

REFERENCE = "https://cloud.google.com/workflows/docs/reference/stdlib/"
# Pages outside the stdlib reference are named by their whole address.
HELPERS = REFERENCE + "expression-helpers"
CHEAT_SHEET = "https://cloud.google.com/workflows/docs/reference/syntax/syntax-cheat-sheet"
# The syntax cheat sheet's map_ops step, on which its map examples work.
CHEAT_SHEET_MAP = {"Key1": "hello"}

# (function, page, expression, variables, documented result); a result is compared with its type,
# so 1.0 (a double) is not 1 (an integer).
EXAMPLES: list[tuple[str, str, str, dict[str, Any], Any]] = [
    ("text.find_all", "text/find_all", 'text.find_all("00000", "00")', {}, [0, 2]),
    ("text.find_all", "text/find_all", 'text.find_all("Hello World", "l")', {}, [2, 3, 9]),
    (
        "text.find_all_regex",
        "text/find_all_regex",
        'text.find_all_regex("HelloWorld", "Hello|World")',
        {},
        [{"index": 0, "match": "Hello"}, {"index": 5, "match": "World"}],
    ),
    (
        "text.replace_all",
        "text/replace_all",
        'text.replace_all("Hello World", "Hello", "Goodbye")',
        {},
        "Goodbye World",
    ),
    (
        "text.replace_all_regex",
        "text/replace_all_regex",
        'text.replace_all_regex("one two", "one|two", "three")',
        {},
        "three three",
    ),
    ("text.to_upper", "text/to_upper", 'text.to_upper("Hello World")', {}, "HELLO WORLD"),
    ("text.to_lower", "text/to_lower", 'text.to_lower("Hello World")', {}, "hello world"),
    (
        "text.url_encode",
        "text/url_encode",
        'text.url_encode("a/b/c?item=d+e f")',
        {},
        "a%2Fb%2Fc%3Fitem%3Dd%2Be%20f",
    ),
    (
        "text.url_encode_plus",
        "text/url_encode_plus",
        'text.url_encode_plus("a/b/c?item=d+e f")',
        {},
        "a%2Fb%2Fc%3Fitem%3Dd%2Be+f",
    ),
    (
        "text.url_decode",
        "text/url_decode",
        'text.url_decode("a%2Fb%2Fc%3Fitem%3Dd%2Be")',
        {},
        "a/b/c?item=d+e",
    ),
    # The description: "Plus signs (+) are replaced with spaces."
    ("text.url_decode", "text/url_decode", 'text.url_decode("d+e")', {}, "d e"),
    (
        "text.decode",
        "text/decode",
        'text.decode(base64.decode("SGVsbG8gV29ybGQ="), "UTF-8")',
        {},
        "Hello World",
    ),
    # The description: "Each byte that cannot be correctly decoded ... is represented in the
    # output by the \uFFFD codepoint."
    ("text.decode", "text/decode", 'text.decode(base64.decode("/w=="), "UTF-8")', {}, "\ufffd"),
    (
        "map.get",
        "map/get",
        'map.get(m, "key2")',
        {"m": {"key1": "hello", "key2": "world"}},
        "world",
    ),
    # The description: map.get(my2DMap, ["key1", "key2"]) is map.get(map.get(my2DMap, "key1"), "key2").
    (
        "map.get",
        "map/get",
        'map.get(m, ["key1", "key2"]) == map.get(map.get(m, "key1"), "key2")',
        {"m": {"key1": {"key2": 7}}},
        True,
    ),
    (
        "map.delete",
        "map/delete",
        'map.delete(m, "key2")',
        {"m": {"key1": "hello", "key2": "world"}},
        {"key1": "hello"},
    ),
    # The description: a key the map lacks gives a copy of the original map.
    (
        "map.delete",
        "map/delete",
        'map.delete(m, "key3")',
        {"m": {"key1": "value1", "key2": "value2"}},
        {"key1": "value1", "key2": "value2"},
    ),
    (
        "map.merge",
        "map/merge",
        "map.merge(a, b)",
        {"a": {"key1": "hello", "key2": "world"}, "b": {"key3": "good", "key4": "morning"}},
        {"key1": "hello", "key2": "world", "key3": "good", "key4": "morning"},
    ),
    (
        "map.merge",
        "map/merge",
        "map.merge(a, b)",
        {"a": {"key1": "hello", "key2": "world"}, "b": {"key1": "good", "key2": "morning"}},
        {"key1": "good", "key2": "morning"},
    ),
    (
        "map.merge_nested",
        "map/merge_nested",
        "map.merge_nested(a, b)",
        {"a": {"key1": {"key2": "value2"}}, "b": {"key1": {"key3": "value3"}}},
        {"key1": {"key2": "value2", "key3": "value3"}},
    ),
    # The description: {key1: value1} and {key1: value2} merge to {key1: value2}.
    (
        "map.merge_nested",
        "map/merge_nested",
        "map.merge_nested(a, b)",
        {"a": {"key1": "value1"}, "b": {"key1": "value2"}},
        {"key1": "value2"},
    ),
    (
        "list.concat",
        "list/concat",
        "list.concat(items, extra)",
        {"items": ["zero", "one", "two"], "extra": "three"},
        ["zero", "one", "two", "three"],
    ),
    (
        "list.prepend",
        "list/prepend",
        "list.prepend(items, extra)",
        {"items": ["zero", "one", "two"], "extra": "three"},
        ["three", "zero", "one", "two"],
    ),
    (
        "hash.compute_checksum",
        "hash/compute_checksum",
        'base64.encode(hash.compute_checksum(text.encode("Hello World", "UTF-8"), "SHA256"))',
        {},
        "pZGm1Av0IEBKARczz7exkNYsZb8LzaMrV7J32a2fFG4=",
    ),
    (
        "hash.compute_hmac",
        "hash/compute_hmac",
        'base64.encode(hash.compute_hmac(text.encode("key", "UTF-8"), text.encode("Hello World", "UTF-8"),'
        ' "SHA256"))',
        {},
        "QidPcoCDkuWLV9co1+PA5RY+rwfRZdwDEF9iq74afRE=",
    ),
    ("time.format", "time/format", "time.format(1720788633)", {}, "2024-07-12T12:50:33.000000Z"),
    (
        "time.format",
        "time/format",
        'time.format(1720788633, "Europe/Berlin")',
        {},
        "2024-07-12T14:50:33.000000+02:00",
    ),
    ("text.split", "text/split", 'text.split("baaab", "aa")', {}, ["b", "ab"]),
    ("text.split", "text/split", 'text.split("abc", "a")', {}, ["", "bc"]),
    ("text.split", "text/split", 'text.split("abc", "c")', {}, ["ab", ""]),
    ("text.split", "text/split", 'text.split("abbc", "b")', {}, ["a", "", "c"]),
    ("text.substring", "text/substring", 'text.substring("hello", 2, 4)', {}, "ll"),
    ("text.substring", "text/substring", 'text.substring("hello", -10, 10)', {}, "hello"),
    # The description: "A negative index is considered an offset from the end of the string."
    ("text.substring", "text/substring", 'text.substring("hello", -3, 5)', {}, "llo"),
    ("text.match_regex", "text/match_regex", 'text.match_regex("HelloWorld", "Hello|Goodbye")', {}, True),
    ("text.match_regex", "text/match_regex", 'text.match_regex("HelloWorld", "Goodbye")', {}, False),
    # "The timestamp ... as a floating point number in seconds since epoch"; the example: 1715169660.
    ("time.parse", "time/parse", 'time.parse("2024-05-08T12:01:00.000000Z")', {}, 1715169660.0),
    ("math.abs", "math/abs", "math.abs(-123)", {}, 123),
    # "If both numbers are integers, returns an integer; otherwise, a floating-point number."
    ("math.max", "math/max", "math.max(123,-456.7)", {}, 123.0),
    ("math.min", "math/min", "math.min(123,-456.7)", {}, -456.7),
    # The cheat sheet's string_ops, list_ops and map_ops steps; the counts are len()'s description
    # on the expression helpers page ("the number of characters in the string", ...).
    ("len", HELPERS, "len(my_string)", {"my_string": "hello"}, 5),
    ("len", HELPERS, "len(my_list)", {"my_list": ["zero", "one", "two"]}, 3),
    ("len", HELPERS, "len(my_map)", {"my_map": CHEAT_SHEET_MAP}, 1),
    # The cheat sheet's key_list: keys() "returns a list of key elements in the map".
    ("keys", HELPERS, "keys(my_map)", {"my_map": CHEAT_SHEET_MAP}, ["Key1"]),
    # The cheat sheet's key_is_null: Key1 is there; default's description: "If val is null,
    # defaultVal is returned", as it is for a map without Key1.
    (
        "default",
        CHEAT_SHEET,
        'default(map.get(my_map, "Key1"), "Couldn\'t find key!")',
        {"my_map": CHEAT_SHEET_MAP},
        "hello",
    ),
    (
        "default",
        CHEAT_SHEET,
        'default(map.get(my_map, "Key1"), "Couldn\'t find key!")',
        {"my_map": {}},
        "Couldn't find key!",
    ),
    # if's description: "If condition evaluates to true, ifTrue is returned. If condition
    # evaluates to false or null, ifFalse is returned."
    ("if", HELPERS, 'if(true, "ifTrue", "ifFalse")', {}, "ifTrue"),
    ("if", HELPERS, 'if(false, "ifTrue", "ifFalse")', {}, "ifFalse"),
    ("if", HELPERS, 'if(null, "ifTrue", "ifFalse")', {}, "ifFalse"),
    # The overview's unique id: string() of sys.now()'s 1635892223.4459958 after an execution id.
    (
        "string",
        "overview",
        '"some_execution_id" + string(1635892223.4459958)',
        {},
        "some_execution_id1635892223.4459958",
    ),
    # -- Descriptions and examples read for issue 15's second part --------------------------
    # text/find_all: "The string is indexed over code points using a zero-based index."
    ("text.find_all", "text/find_all", 'text.find_all("añoaño", "o")', {}, [2, 5]),
    # text/replace_all and text/replace_all_regex: "If the expression is empty, it matches at the
    # beginning of the string and after each code point, yielding up to k+1 replacements for a
    # string with k code points."
    ("text.replace_all", "text/replace_all", 'text.replace_all("añb", "", "-")', {}, "-a-ñ-b-"),
    (
        "text.replace_all_regex",
        "text/replace_all_regex",
        'text.replace_all_regex("añb", "", "-")',
        {},
        "-a-ñ-b-",
    ),
    # text/split: "If the separator is not found, then a list containing only the source string
    # is returned."
    ("text.split", "text/split", 'text.split("abc", "x")', {}, ["abc"]),
    # text/encode's example: "Hello World" encoded as UTF-8, then as Base64, is "SGVsbG8gV29ybGQ=".
    (
        "text.encode",
        "text/encode",
        'base64.encode(text.encode("Hello World", "UTF-8"))',
        {},
        "SGVsbG8gV29ybGQ=",
    ),
    # text/encode and text/decode: charset is "The IANA charset name; e.g. UTF-8, US-ASCII,
    # ISO-8859-2. Case-insensitive." (ą is the byte 0xB1, "sQ==", in ISO-8859-2.)
    ("text.encode", "text/encode", 'base64.encode(text.encode("ą", "iso-8859-2"))', {}, "sQ=="),
    ("text.decode", "text/decode", 'text.decode(base64.decode("sQ=="), "ISO-8859-2")', {}, "ą"),
    # base64/decode: "The carriage return (\r) and newline (\n) characters in the input are
    # ignored." (The Base64 text of "Hello" broken over two lines.)
    ("base64.decode", "base64/decode", "text.decode(base64.decode(data))", {"data": "SGVs\r\nbG8="}, "Hello"),
    ("base64.decode", "base64/decode", "text.decode(base64.decode(data))", {"data": "SGVs\nbG8=\n"}, "Hello"),
    # base64/encode and base64/decode: `padding` "Specifies whether padding characters should be
    # used to align the output to a multiple of 4 bytes"; without it, "SGVsbG8" is "Hello".
    ("base64.encode", "base64/encode", 'base64.encode(text.encode("Hello"), false)', {}, "SGVsbG8"),
    ("base64.decode", "base64/decode", 'text.decode(base64.decode("SGVsbG8", false))', {}, "Hello"),
    # json/decode: "If the input is bytes, it is first converted to a string, as if by calling
    # text.decode(data, 'UTF-8')", which writes U+FFFD for a byte it cannot decode: the bytes
    # `"`, 0xFF, `"` ("Iv8i") are the JSON string "\uFFFD".
    ("json.decode", "json/decode", 'json.decode(base64.decode("Iv8i"))', {}, "\ufffd"),
    # json/encode (and encode_to_string): "When the indentation is enabled, each JSON element
    # begins on a new line beginning with prefix and followed by zero or more copies of indent
    # according to the structural nesting", indent "defaulting to four spaces".
    (
        "json.encode_to_string",
        "json/encode_to_string",
        "json.encode_to_string([1, [2]], true)",
        {},
        "[\n    1,\n    [\n        2\n    ]\n]",
    ),
    (
        "json.encode",
        "json/encode",
        'text.decode(json.encode([1, [2]], {"indent": "\t"}))',
        {},
        "[\n\t1,\n\t[\n\t\t2\n\t]\n]",
    ),
    # "Setting indent to true is equivalent to setting it to an empty dictionary. Setting indent
    # to false is equivalent to not setting it."
    (
        "json.encode_to_string",
        "json/encode_to_string",
        "json.encode_to_string(m, true) == json.encode_to_string(m, {})",
        {"m": {"a": [1, {"b": None}]}},
        True,
    ),
    (
        "json.encode_to_string",
        "json/encode_to_string",
        "json.encode_to_string(m, false) == json.encode_to_string(m)",
        {"m": {"a": [1, {"b": None}]}},
        True,
    ),
    # list/concat and list/prepend: "The source list. Note that this list is not modified."
    ("list.concat", "list/concat", "[list.concat(objs, 3), objs]", {"objs": [1, 2]}, [[1, 2, 3], [1, 2]]),
    ("list.prepend", "list/prepend", "[list.prepend(objs, 0), objs]", {"objs": [1, 2]}, [[0, 1, 2], [1, 2]]),
    # map/get: "If the input is not a map or if the map does not contain the key, returns null",
    # and for a list of keys "If any of the nested objects are not maps ... then null is returned."
    ("map.get", "map/get", 'map.get("not a map", "key1")', {}, None),
    ("map.get", "map/get", 'map.get(m, ["key1", "key2"])', {"m": {"key1": "hello"}}, None),
    ("map.get", "map/get", 'map.get(m, ["key1", "key3"])', {"m": {"key1": {"key2": 1}}}, None),
    # map/delete: "Takes a map, creates a copy of the map, and removes the item for the specified
    # key": the map passed keeps its item.
    ("map.delete", "map/delete", '[map.delete(m, "key1"), m]', {"m": {"key1": 1}}, [{}, {"key1": 1}]),
    # text/url_encode and text/url_encode_plus: "Letters, digits, and the characters .-_ are not
    # escaped", so "~" and "*" are.
    ("text.url_encode", "text/url_encode", 'text.url_encode("aZ9.-_~*")', {}, "aZ9.-_%7E%2A"),
    ("text.url_encode_plus", "text/url_encode_plus", 'text.url_encode_plus("a b~")', {}, "a+b%7E"),
    # map/merge: "if you have map1 = {key1: value1} and map2 = {key1: value2}, map.merge(map1,
    # map2) returns {key1: value2}."
    (
        "map.merge",
        "map/merge",
        "map.merge(map1, map2)",
        {"map1": {"key1": "value1"}, "map2": {"key1": "value2"}},
        {"key1": "value2"},
    ),
    # sys/get_env: "If the specified variable is not set, returns the default value instead."
    ("sys.get_env", "sys/get_env", 'sys.get_env("NOT_SET_ANYWHERE", "fallback")', {}, "fallback"),
    # time/format's examples: "GMT" and "Europe/Paris"; and "If not specified or if an empty
    # string, the default is UTC."
    ("time.format", "time/format", 'time.format(1720788633, "GMT")', {}, "2024-07-12T12:50:33.000000Z"),
    (
        "time.format",
        "time/format",
        'time.format(1720788633, "Europe/Paris")',
        {},
        "2024-07-12T14:50:33.000000+02:00",
    ),
    ("time.format", "time/format", 'time.format(1720788633, "")', {}, "2024-07-12T12:50:33.000000Z"),
    # time/parse takes "A string formatted according to the subset of ISO 8601 defined by RFC 3339
    # section 5.6", whose NOTE lets "T" and "Z" "alternatively be lower case".
    ("time.parse", "time/parse", 'time.parse("2024-05-08t12:01:00.000000z")', {}, 1715169660.0),
    # math/floor's examples; "Rounds down to the largest integer less than or equal to a given
    # number" (the page shows 23, not 23.0).
    ("math.floor", "math/floor", "math.floor(23.67)", {}, 23),
    ("math.floor", "math/floor", "math.floor(-23.67)", {}, -24),
    ("math.floor", "math/floor", "math.floor(0)", {}, 0),
    # len: "A string returns the number of characters in the string" (code points, not bytes).
    ("len", HELPERS, 'len("añ😀")', {}, 3),
]


@pytest.mark.parametrize(
    ("function", "page", "expression", "variables", "documented"),
    EXAMPLES,
    ids=[f"{case[0]}:{case[2]}" for case in EXAMPLES],
)
def test_documented_example(
    function: str, page: str, expression: str, variables: dict[str, Any], documented: Any
) -> None:
    """REFERENCE + page (or the page named in full): `expression` with `variables` gives
    `documented`, of the same type."""
    assert function in expression
    result = run(expression, **variables)
    assert (result, type(result)) == (documented, type(documented))


# (function, page, expression, the error tag its "Raised exceptions" table names)
RAISED = [
    # "ValueError If source contains any % not followed by two hexadecimal characters"
    ("text.url_decode", "text/url_decode", 'text.url_decode("100%")', "ValueError"),
    ("text.url_decode", "text/url_decode", 'text.url_decode("%zz")', "ValueError"),
    # "ValueError If separator is an empty string"
    ("text.split", "text/split", 'text.split("abc", "")', "ValueError"),
    # "ValueError If x is MinInt64."
    ("math.abs", "math/abs", "math.abs(-9223372036854775807 - 1)", "ValueError"),
    # -- Raised exceptions tables read for issue 15's second part ----------------------------
    # text/*: "TypeError If source is not a string" (or "If either source or ... is not a string").
    ("text.find_all", "text/find_all", 'text.find_all(1, "a")', "TypeError"),
    ("text.find_all_regex", "text/find_all_regex", 'text.find_all_regex("a", 1)', "TypeError"),
    ("text.match_regex", "text/match_regex", 'text.match_regex(1, "a")', "TypeError"),
    ("text.replace_all", "text/replace_all", 'text.replace_all("a", "a", 1)', "TypeError"),
    ("text.replace_all_regex", "text/replace_all_regex", 'text.replace_all_regex("a", "a", 1)', "TypeError"),
    ("text.split", "text/split", 'text.split(["a"], "a")', "TypeError"),
    ("text.to_lower", "text/to_lower", "text.to_lower(1)", "TypeError"),
    ("text.to_upper", "text/to_upper", "text.to_upper(true)", "TypeError"),
    ("text.url_encode", "text/url_encode", "text.url_encode(1)", "TypeError"),
    ("text.url_encode_plus", "text/url_encode_plus", "text.url_encode_plus(null)", "TypeError"),
    ("text.url_decode", "text/url_decode", "text.url_decode(1)", "TypeError"),
    # "TypeError If source is not a string; or, if either start or end is not an integer."
    ("text.substring", "text/substring", 'text.substring("hello", 1.5, 3)', "TypeError"),
    ("text.substring", "text/substring", "text.substring(1, 0, 3)", "TypeError"),
    # "ValueError If regexp is not UTF-8 encoded or is an invalid regular expression."
    ("text.match_regex", "text/match_regex", 'text.match_regex("a", "(")', "ValueError"),
    ("text.find_all_regex", "text/find_all_regex", 'text.find_all_regex("a", "[")', "ValueError"),
    # text/encode: "ValueError If the charset is unsupported, or if the text contains codepoints
    # that are not representable in the specified charset"; text/decode: "If the charset is
    # unsupported". Python knows rot13 and base64 as codecs; they are not charsets.
    ("text.encode", "text/encode", 'text.encode("abc", "rot13")', "ValueError"),
    ("text.encode", "text/encode", 'text.encode("é", "US-ASCII")', "ValueError"),
    ("text.decode", "text/decode", 'text.decode(text.encode("abc"), "base64")', "ValueError"),
    ("text.decode", "text/decode", 'text.decode(text.encode("abc"), "no-such-charset")', "ValueError"),
    # base64/decode: "ValueError If characters outside of the Base64 alphabet are encountered, or
    # if padding == true and the input is not aligned to a multiple of 4 bytes."
    ("base64.decode", "base64/decode", 'base64.decode("SGV$bG8=")', "ValueError"),
    ("base64.decode", "base64/decode", 'base64.decode("SGVsbG8")', "ValueError"),
    # hash/*: "TypeError If data is not in bytes, or if algorithm is not a string. ValueError If
    # the provided hashing algorithm is not supported."
    (
        "hash.compute_checksum",
        "hash/compute_checksum",
        'hash.compute_checksum("Hello", "SHA256")',
        "TypeError",
    ),
    (
        "hash.compute_checksum",
        "hash/compute_checksum",
        'hash.compute_checksum(text.encode("Hello"), 256)',
        "TypeError",
    ),
    (
        "hash.compute_checksum",
        "hash/compute_checksum",
        'hash.compute_checksum(text.encode("Hello"), "SHA3_256")',
        "ValueError",
    ),
    (
        "hash.compute_hmac",
        "hash/compute_hmac",
        'hash.compute_hmac("key", text.encode("Hello"), "SHA256")',
        "TypeError",
    ),
    (
        "hash.compute_hmac",
        "hash/compute_hmac",
        'hash.compute_hmac(text.encode("key"), text.encode("Hello"), "CRC32")',
        "ValueError",
    ),
    # json/encode and json/encode_to_string: "ValueError If the input contains types that cannot
    # be JSON-encoded. Examples of such types include callable and bytes."
    ("json.encode", "json/encode", 'json.encode({"a": text.encode("x")})', "ValueError"),
    ("json.encode_to_string", "json/encode_to_string", "json.encode_to_string([retry.always])", "ValueError"),
    # json/decode: "ValueError If given data is not a valid JSON object."
    ("json.decode", "json/decode", 'json.decode("{\\"a\\": 1")', "ValueError"),
    # list/concat and list/prepend: "TypeError If objs is not a list."
    ("list.concat", "list/concat", 'list.concat("zero", "one")', "TypeError"),
    ("list.prepend", "list/prepend", 'list.prepend({"zero": 0}, "one")', "TypeError"),
    # map/get: "TypeError If the key is not a string or a list of strings."
    ("map.get", "map/get", 'map.get({"1": 1}, 1)', "TypeError"),
    ("map.get", "map/get", 'map.get({"a": {"1": 1}}, ["a", 1])', "TypeError"),
    # map/delete: "TypeError If map is not a map (dictionary) or the key is not a string."
    ("map.delete", "map/delete", 'map.delete(["key1"], "key1")', "TypeError"),
    ("map.delete", "map/delete", 'map.delete({"1": 1}, 1)', "TypeError"),
    # map/merge and map/merge_nested: "TypeError If first or second is not a map (dictionary)."
    ("map.merge", "map/merge", 'map.merge({"a": 1}, ["b"])', "TypeError"),
    ("map.merge_nested", "map/merge_nested", 'map.merge_nested("a", {"b": 1})', "TypeError"),
    # math/abs: "TypeError If x is not an integer or floating-point number."; math/max and
    # math/min: "TypeError If at least one of x or y is not an integer or floating-point number."
    ("math.abs", "math/abs", 'math.abs("-1")', "TypeError"),
    ("math.max", "math/max", 'math.max(1, "2")', "TypeError"),
    ("math.min", "math/min", "math.min(true, 2)", "TypeError"),
    # math/floor: "TypeError If x is not an integer or floating-point number."
    ("math.floor", "math/floor", 'math.floor("23.67")', "TypeError"),
    # sys/get_env: "TypeError If either name or default is not a string."
    ("sys.get_env", "sys/get_env", "sys.get_env(1)", "TypeError"),
    ("sys.get_env", "sys/get_env", 'sys.get_env("NOT_SET_ANYWHERE", 1)', "TypeError"),
    # time/parse: "TypeError If time is not a string. ValueError If time is not compatible with
    # RFC 3339 section 5.6." ISO 8601's basic format, a time without seconds, a space for the T,
    # an offset without its colon and a time without an offset are not RFC 3339 date-times.
    ("time.parse", "time/parse", "time.parse(1715169660)", "TypeError"),
    ("time.parse", "time/parse", 'time.parse("20240508T120100Z")', "ValueError"),
    ("time.parse", "time/parse", 'time.parse("2024-05-08T12:01Z")', "ValueError"),
    ("time.parse", "time/parse", 'time.parse("2024-05-08 12:01:00Z")', "ValueError"),
    ("time.parse", "time/parse", 'time.parse("2024-05-08T12:01:00+0200")', "ValueError"),
    ("time.parse", "time/parse", 'time.parse("2024-05-08T12:01:00")', "ValueError"),
]


@pytest.mark.parametrize(("function", "page", "expression", "tag"), RAISED, ids=[c[2] for c in RAISED])
def test_documented_error(function: str, page: str, expression: str, tag: str) -> None:
    """REFERENCE + page: `expression` raises the error its page names."""
    assert function in expression
    with pytest.raises(WorkflowError) as caught:
        run(expression)
    assert caught.value.tags == [tag]


def test_cheat_sheet_conversions_return_the_documented_types() -> None:
    """CHEAT_SHEET's conversion_functions step: double("2.7") ("string, integer to double") and
    int(2.7) ("string, double to integer"). The sheet shows no values; the types are its comments'
    and the expression helpers page's ("returns a double", "returns an integer")."""
    to_double = run('double("2.7")')
    assert (to_double, type(to_double)) == (2.7, float)
    assert type(run("int(2.7)")) is int


@pytest.fixture
def engine(store: Store, clock: VirtualClock, pubsub_emulator: PubSubEmulator) -> Iterator[Engine]:
    """An engine whose Pub/Sub connector reaches the emulator."""
    settings = ConnectorSettings(pubsub_host=pubsub_emulator.host, project=PROJECT)
    engine = Engine(store, clock, project=PROJECT, connector_settings=settings)
    yield engine
    engine.close()


def result_of(engine: Engine, source: str) -> Any:
    """Deploy and run `source` to its end, which must be a success; its result."""
    engine.deploy("example", source)
    execution = engine.start("example")
    engine.wait_idle()
    done = engine.get(execution.id)
    assert done.state == "SUCCEEDED", done.error
    return done.result


# base64/encode and publish-pubsub-message: encode a map as JSON bytes, then as Base64,
# and publish it. json/decode: pull it back and decode the Base64 data, then the JSON.
ROUND_TRIP = """
main:
  steps:
    - prepare:
        assign:
          - project: ${sys.get_env("GOOGLE_CLOUD_PROJECT_ID")}
          - payload:
              hello: world
          - encoded: ${base64.encode(json.encode(payload))}
    - send:
        call: googleapis.pubsub.v1.projects.topics.publish
        args:
          topic: ${"projects/" + project + "/topics/reference-examples"}
          body:
            messages:
              - data: ${encoded}
    - receive:
        call: googleapis.pubsub.v1.projects.subscriptions.pull
        args:
          subscription: ${"projects/" + project + "/subscriptions/reference-examples"}
          body:
            maxMessages: 1
        result: pulled
    - done:
        return: ${json.decode(base64.decode(pulled.receivedMessages[0].message.data))}
"""


def test_base64_and_json_examples_round_trip_through_pubsub(
    engine: Engine, pubsub_emulator: PubSubEmulator
) -> None:
    """REFERENCE base64/encode, base64/decode, json/encode and json/decode, with
    https://cloud.google.com/workflows/docs/publish-pubsub-message: the map published as
    Base64 JSON comes back from the pull as the same map."""
    settings = ConnectorSettings(pubsub_host=pubsub_emulator.host)
    topic = f"projects/{PROJECT}/topics/reference-examples"
    subscription = f"projects/{PROJECT}/subscriptions/reference-examples"
    tokens = StaticTokens(access="test", identity="test")
    prefix = "googleapis.pubsub.v1.projects."
    call_connector(prefix + "topics.create", {"name": topic, "body": {}}, settings, tokens)
    call_connector(
        prefix + "subscriptions.create", {"name": subscription, "body": {"topic": topic}}, settings, tokens
    )
    try:
        assert result_of(engine, ROUND_TRIP) == {"hello": "world"}
    finally:
        call_connector(prefix + "subscriptions.delete", {"subscription": subscription}, settings, tokens)
        call_connector(prefix + "topics.delete", {"topic": topic}, settings, tokens)


def test_json_encode_to_string_example_logs_the_map(engine: Engine) -> None:
    """REFERENCE json/encode_to_string: its example logs "Received " + the map's JSON text (the
    page shows no output; the text is json.encode's, which writes no spaces)."""
    source = """
main:
  steps:
    - prepare:
        assign:
          - greeting: {"key1": "hello"}
    - say:
        call: sys.log
        args:
          severity: "INFO"
          text: ${"Received " + json.encode_to_string(greeting)}
"""
    result_of(engine, source)
    assert [(entry.severity, entry.payload) for entry in engine.logs] == [
        ("INFO", 'Received {"key1":"hello"}')
    ]


def test_lists_page_updates_the_last_element_through_len(engine: Engine) -> None:
    """https://cloud.google.com/workflows/docs/reference/syntax/lists, "Update list values": the
    index len(my_list) - 1 is the last element's."""
    source = """
main:
  steps:
    - update_list:
        assign:
          - my_list: [0, 1, 2, 3, 4]
          - idx: 0
          - my_list[0]: "Value0"
          - my_list[idx + 1]: "Value1"
          - my_list[len(my_list) - 1]: "LastValue"
    - done:
        return: ${my_list}
"""
    assert result_of(engine, source) == ["Value0", "Value1", 2, 3, "LastValue"]


# The shape of uuid/generate's example "747760c7-0fcf-49fe-a204-28c3fc0ffabc": a version 4 UUID.
UUID_V4 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


def test_uuid_generate_example_returns_a_random_uuid(engine: Engine) -> None:
    """REFERENCE uuid/generate: "A random 128-bit UUID in string form", like its example's."""
    assert UUID_V4.fullmatch("747760c7-0fcf-49fe-a204-28c3fc0ffabc")
    source = """
main:
  steps:
    - returnStep:
        return: ${[uuid.generate(), uuid.generate()]}
"""
    first, second = result_of(engine, source)
    assert UUID_V4.fullmatch(first) and UUID_V4.fullmatch(second)
    assert first != second


def test_sys_now_example_returns_unix_time_as_a_double(engine: Engine, clock: VirtualClock) -> None:
    """REFERENCE sys/now: "Unix time, as a floating-point number of seconds elapsed since Epoch"
    (its example: 1715172805.2818468), here the engine's clock."""
    source = """
main:
  steps:
    - returnStep:
        return: ${sys.now()}
"""
    now = result_of(engine, source)
    assert (now, type(now)) == (clock.now(), float)


RETRIED = """
main:
  params: [args]
  steps:
    - init:
        assign:
          - attempts: 0
    - target:
        try:
          steps:
            - count:
                assign:
                  - attempts: ${attempts + 1}
            - fail:
                raise: ${args.error}
        retry:
          predicate: ${PREDICATE}
          max_retries: 1
          backoff:
            initial_delay: 1
            max_delay: 1
            multiplier: 1
        except:
          as: e
          steps:
            - tried:
                return: ${attempts}
"""


def http_error(code: int) -> dict[str, Any]:
    return {"code": code, "tags": ["HttpError"], "message": f"HTTP {code}"}


def tagged(tag: str) -> dict[str, Any]:
    return {"tags": [tag], "message": tag}


# (predicate, error, whether its page says it retries it). retry/always: "retries on any
# error"; retry/never: "retries on no error at all"; http/default_retry_predicate: "Retries on
# 429 ..., 502 ..., 503 ..., and 504 ..., as well as on any ConnectionError,
# ConnectionFailedError, and TimeoutError"; http/default_retry_predicate_non_idempotent:
# "Retries on 429 ... and 503 ..., as well as on ConnectionFailedError" (the others of the
# idempotent list are not retried).
PREDICATE_CASES = [
    ("retry.always", http_error(404), True),
    ("retry.always", tagged("KeyError"), True),
    ("retry.never", http_error(503), False),
    ("retry.never", tagged("ConnectionError"), False),
    *[("http.default_retry_predicate", http_error(code), True) for code in (429, 502, 503, 504)],
    *[
        ("http.default_retry_predicate", tagged(tag), True)
        for tag in ("ConnectionError", "ConnectionFailedError", "TimeoutError")
    ],
    *[("http.default_retry_predicate_non_idempotent", http_error(code), True) for code in (429, 503)],
    ("http.default_retry_predicate_non_idempotent", tagged("ConnectionFailedError"), True),
    *[("http.default_retry_predicate_non_idempotent", http_error(code), False) for code in (502, 504)],
    *[
        ("http.default_retry_predicate_non_idempotent", tagged(tag), False)
        for tag in ("ConnectionError", "TimeoutError")
    ],
]


@pytest.mark.parametrize(
    ("predicate", "error", "retried"),
    PREDICATE_CASES,
    ids=[f"{p}:{e.get('code', e['tags'][0])}" for p, e, _ in PREDICATE_CASES],
)
def test_retry_predicate_retries_what_its_page_says(
    engine: Engine, predicate: str, error: dict[str, Any], retried: bool
) -> None:
    """REFERENCE + the predicate's page, used as its examples use it: a try step's
    `retry: predicate: ${...}`; a retried error runs the step twice (max_retries 1)."""
    engine.deploy("example", RETRIED.replace("PREDICATE", predicate))
    execution = engine.start("example", {"error": error})
    engine.advance(5)
    done = engine.get(execution.id)
    assert done.state == "SUCCEEDED", done.error
    assert done.result == (2 if retried else 1)


# Functions tested by their own test above rather than by EXAMPLES.
OWN_TESTS = {
    "double": "test_cheat_sheet_conversions_return_the_documented_types",
    "int": "test_cheat_sheet_conversions_return_the_documented_types",
    "uuid.generate": "test_uuid_generate_example_returns_a_random_uuid",
    "sys.now": "test_sys_now_example_returns_unix_time_as_a_double",
    "retry.always": "test_retry_predicate_retries_what_its_page_says",
    "retry.never": "test_retry_predicate_retries_what_its_page_says",
    "http.default_retry_predicate": "test_retry_predicate_retries_what_its_page_says",
    "http.default_retry_predicate_non_idempotent": "test_retry_predicate_retries_what_its_page_says",
    "sys.sleep_until": "test_sys_sleep_until_example_resumes_at_the_given_time",
}
# Functions without a case above, and why.
WITHOUT_EXAMPLE = {
    "events.await_callback": "network: covered by test_callback_translation_sample.py",
    "events.create_callback_endpoint": "network: covered by test_callback_translation_sample.py",
    "http.delete": "network (skipped by design)",
    "http.get": "network (skipped by design)",
    "http.patch": "network (skipped by design)",
    "http.post": "network (skipped by design)",
    "http.put": "network (skipped by design)",
    "http.request": "network (skipped by design)",
    "sys.sleep": "blocking; its page's example only waits",
}
# Exercised inside other examples: the Pub/Sub round trip uses sys.get_env, the encode_to_string
# log sys.log (test_sys_log.py has the sys.log page's own).
INSIDE_OTHER_EXAMPLES = {"sys.log"}
# Implemented, but no stored copy of the page's example could be found for this suite: searched
# for (docs and pages corpora) the get_type section of HELPERS (every stored copy of that page
# ends within if()'s entry).
NOT_YET_READ = {"get_type"}


def test_every_function_is_covered_or_explained() -> None:
    """Every library function is in exactly one of: an example, another example's steps, a reason
    it has none here, or the list of pages still to read."""
    implemented = set(stdlib.function_names())
    examples = {case[0] for case in EXAMPLES} | set(OWN_TESTS)
    assert all(callable(globals().get(test)) for test in OWN_TESTS.values())
    groups = [examples, INSIDE_OTHER_EXAMPLES, set(WITHOUT_EXAMPLE), NOT_YET_READ]
    assert set().union(*groups) == implemented
    assert sum(len(group) for group in groups) == len(implemented)


def test_substring_without_both_indexes_is_a_deployment_error() -> None:
    """REFERENCE text/substring: "Both start and end arguments are required; otherwise, a
    deployment error occurs", in an expression and in a call step alike."""
    in_expression = """
main:
  steps:
    - returnStep:
        return: ${text.substring("hello", 2)}
"""
    in_call_step = """
main:
  steps:
    - cut:
        call: text.substring
        args:
          source: hello
          start: 2
        result: part
    - returnStep:
        return: ${part}
"""
    for source in (in_expression, in_call_step):
        with pytest.raises(DefinitionError, match=r"text\.substring: missing required argument 'end'"):
            parse(source)


def test_sys_sleep_until_example_resumes_at_the_given_time() -> None:
    """REFERENCE sys/sleep_until's example: sleep until "2024-05-08T13:22:58Z", then
    time.format(sys.now()) is that moment ("For example, returns "2024-05-08T13:22:58.120062Z"";
    the engine's virtual clock resumes exactly on time)."""
    source = """
main:
  steps:
    - pauseWorkflow:
        call: sys.sleep_until
        args:
          time: "2024-05-08T13:22:58Z"
    - returnStep:
        return: ${time.format(sys.now())}
"""
    an_hour_before = 1715174578.0 - 3600
    assert interpreted_result(source, host=TestHost(now=an_hour_before)) == "2024-05-08T13:22:58.000000Z"


def with_retry_policy(policy: str) -> str:
    return f"""
main:
  steps:
    - read_item:
        try:
          call: http.get
          args:
            url: https://example.com/someapi
          result: api_response
        retry: ${{{policy}}}
    - returnStep:
        return: ${{api_response.body}}
"""


def test_http_default_retry_retries_five_times_with_the_default_backoff() -> None:
    """REFERENCE http/default_retry: "Uses max_retries of 5, and backoff as per
    retry.default_backoff", which "has initial backoff of 1 second, max backoff of 1 minute, and a
    multiplier of 1.25" (retry/default_backoff): five 503s are retried after 1, 1.25, 1.5625, ...
    seconds; a sixth is the step's error."""
    driver = Driver(respond=failing([503] * 5))
    assert driver.run(with_retry_policy("http.default_retry")).result == "ok"
    waits = [effect.until - START for _, effect in driver.effects if isinstance(effect, SleepEffect)]
    assert waits == [1, 1 + 1.25, 1 + 1.25 + 1.5625, 1 + 1.25 + 1.5625 + 1.953125, 8.20703125]
    failed = Driver(respond=failing([503] * 6)).run(with_retry_policy("http.default_retry"))
    assert failed.error is not None and failed.error.value["code"] == 503


@pytest.mark.parametrize(
    ("policy", "code", "retried"),
    [
        ("http.default_retry", 429, True),
        ("http.default_retry", 502, True),
        ("http.default_retry", 504, True),
        ("http.default_retry", 500, False),
        ("http.default_retry_non_idempotent", 429, True),
        ("http.default_retry_non_idempotent", 503, True),
        ("http.default_retry_non_idempotent", 502, False),
        ("http.default_retry_non_idempotent", 504, False),
    ],
)
def test_http_default_retry_policies_retry_the_codes_their_pages_name(
    policy: str, code: int, retried: bool
) -> None:
    """REFERENCE http/default_retry: "Retries on 429 (Too Many Requests), 502 (Bad Gateway), 503
    (Service unavailable), and 504 (Gateway Timeout)"; http/default_retry_non_idempotent: "Retries
    on 429 (Too Many Requests) and 503 (Service Unavailable)"."""
    driver = Driver(respond=failing([code]))
    run = driver.run(with_retry_policy(policy))
    calls = [effect for _, effect in driver.effects if isinstance(effect, CallEffect)]
    assert (len(calls), run.error is None) == ((2, True) if retried else (1, False))
