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
from approvals.engine.runtime import stdlib
from approvals.engine.runtime.clock import VirtualClock
from approvals.engine.runtime.connectors import ConnectorSettings, call_connector
from approvals.engine.runtime.engine import Engine
from approvals.engine.runtime.errors import WorkflowError
from approvals.engine.runtime.store import Store
from approvals.engine.runtime.tokens import StaticTokens
from tests.engine.expr_host import run
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
    # "ValueError If separator is an empty string"
    ("text.split", "text/split", 'text.split("abc", "")', "ValueError"),
    # "ValueError If x is MinInt64."
    ("math.abs", "math/abs", "math.abs(-9223372036854775807 - 1)", "ValueError"),
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
    "sys.sleep_until": "blocking; its page's example only waits",
}
# Exercised inside other examples: the Pub/Sub round trip, the encode_to_string log and
# the hash examples (which encode their text with text.encode).
INSIDE_OTHER_EXAMPLES = {
    "base64.decode",
    "base64.encode",
    "json.decode",
    "json.encode",
    "json.encode_to_string",
    "sys.get_env",
    "sys.log",
    "text.encode",
}
# Implemented, but no stored copy of the page's example could be found for this suite: searched
# for (docs and pages corpora) REFERENCE math/floor, and the get_type section of HELPERS (every
# stored copy of that page ends within if()'s entry).
NOT_YET_READ = {
    "get_type",
    "math.floor",
}


def test_every_function_is_covered_or_explained() -> None:
    """Every library function is in exactly one of: an example, another example's steps, a reason
    it has none here, or the list of pages still to read."""
    implemented = set(stdlib.function_names())
    examples = {case[0] for case in EXAMPLES} | set(OWN_TESTS)
    assert all(callable(globals().get(test)) for test in OWN_TESTS.values())
    groups = [examples, INSIDE_OTHER_EXAMPLES, set(WITHOUT_EXAMPLE), NOT_YET_READ]
    assert set().union(*groups) == implemented
    assert sum(len(group) for group in groups) == len(implemented)
