"""Workflows expressions: literals, operators, access, errors, assignment targets.

Expected values come from Google's Workflows docs (pages named in each docstring).
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from approvals.engine.language.parser import (
    Const,
    Expression,
    ListValue,
    MapValue,
    compile_value,
    parse_expression,
    parse_target,
    references,
)
from approvals.engine.language.scanner import ExpressionSyntaxError
from approvals.engine.runtime.errors import WorkflowError
from approvals.engine.runtime.expressions import assign, evaluate_value, locate
from approvals.engine.runtime.values import INT64_MAX, INT64_MIN, FunctionRef, copy_value
from tests.engine.expr_host import LibraryContext, run


def raises_tag(tag: str, text: str, **variables: Any) -> WorkflowError:
    with pytest.raises(WorkflowError) as caught:
        run(text, **variables)
    assert caught.value.tags == [tag], caught.value.value
    return caught.value


# ---- literals -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("42", 42),
        ("0", 0),
        ("4.1", 4.1),
        ("1e3", 1000.0),
        ("2.5E-2", 0.025),
        ("-7", -7),
        ('"hello"', "hello"),
        ("'single'", "single"),
        ("[]", []),
        ('["zero", "one", 2]', ["zero", "one", 2]),
        ('{"k": 1, "nested": {"x": [true]}}', {"k": 1, "nested": {"x": [True]}}),
        ("{}", {}),
        ("null", None),
    ],
)
def test_literals(text: str, expected: Any) -> None:
    """Data types: integers, doubles, strings, lists and maps are all expression values."""
    result = run(text)
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize("word", ["true", "True", "TRUE", "false", "False", "FALSE"])
def test_every_documented_boolean_spelling(word: str) -> None:
    """Data types: "Boolean (true/false, True/False, TRUE/FALSE)"."""
    assert run(word) is (word.lower() == "true")


@pytest.mark.parametrize("word", ["tRUE", "fALSE", "TrUe"])
def test_mixed_case_booleans_are_just_names(word: str) -> None:
    """Only the three documented spellings are literals; anything else is a variable name."""
    raises_tag("KeyError", word)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (r'"a\nb"', "a\nb"),
        (r'"tab\there"', "tab\there"),
        (r'"quote \" inside"', 'quote " inside'),
        (r"'it\'s'", "it's"),
        ("'say \"hi\"'", 'say "hi"'),
        (r'"back\\slash"', "back\\slash"),
        (r'"\u00e9t\u00e9"', "été"),
        ('"colon: ok"', "colon: ok"),
    ],
)
def test_string_escapes_and_quotes(text: str, expected: str) -> None:
    """Strings take either quote (`${'SystemError' in e.tags}` in Workflows errors) and escapes."""
    assert run(text) == expected


def test_integer_literal_bounds() -> None:
    """Data types: "Integer (64 bit, signed)"; the most negative one is still a literal."""
    assert run("9223372036854775807") == INT64_MAX
    assert run("-9223372036854775808") == INT64_MIN
    with pytest.raises(ExpressionSyntaxError):
        parse_expression("9223372036854775808")


# ---- operators ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # "Order of operations" (data types), most binding first.
        ("1 + 2 * 3", 7),
        ("(1 + 2) * 3", 9),
        ("10 - 4 - 3", 3),
        ("2 * 3 % 4", 2),
        ("-2 * 3", -6),
        ("- (2 + 3)", -5),
        ("1 + 2 == 3", True),
        ("1 < 2 == true", True),  # one comparison level, left to right: (1 < 2) == true
        ("true or false and false", True),
        ("(true or false) and false", False),
        ("not false and false", False),
        ("not (1 == 2)", True),
        ("not true == false", True),  # `not` binds tighter than `==`: (not true) == false
        ('"a" in ["a"] and 1 < 2', True),
        ("1 + 2 in [3]", True),
        ("TRUE AND NOT FALSE", True),
        ("false OR true", True),
    ],
)
def test_precedence(text: str, expected: Any) -> None:
    """Data types, Order of operations: () . [] not - (* / // %) (+ -) (comparison, in) and or."""
    assert run(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7 + 2", 9),
        ("7 - 9", -2),
        ("7 * 3", 21),
        ("7 / 2", 3.5),
        ("6 / 3", 2.0),
        ("7 // 2", 3),
        ("-7 // 2", -4),
        ("7 % 3", 1),
        ("-7 % 3", 2),
        ("7 % -3", -2),
        ("7.5 // 2", 3.0),
        ("7.5 % 2", 1.5),
        ("1 + 2.5", 3.5),
        ("2 * 1.5", 3.0),
        ("3.0 - 1", 2.0),
    ],
)
def test_integer_and_double_arithmetic(text: str, expected: Any) -> None:
    """Expressions: "/ : float division", "% : remainder division", "// : floor division".

    int op int stays an integer except `/`; any double operand gives a double.
    `//` floors and `%` takes the divisor's sign, so a == (a // b) * b + a % b.
    """
    result = run(text)
    assert result == expected
    assert type(result) is type(expected)


def test_plus_concatenates_strings() -> None:
    """Expressions: "+ : arithmetic addition and string concatenation"."""
    assert run('"hello" + " " + "world"') == "hello world"


def test_plus_concatenates_a_string_and_a_number() -> None:
    """Google's workflow-executes-other-workflows demo returns ${"Hello world"+iteration} and
    raises ${"Error with iteration "+iteration} for an integer iteration: both run."""
    assert run('"Hello world" + 1') == "Hello world1"
    assert run('"Error with iteration " + 2') == "Error with iteration 2"
    assert run('"x" + 2.5') == "x2.5"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('1 + "a"', "1a"),
        ('2.5 + "a"', "2.5a"),
        ('true + "a"', "truea"),
        ('"a" + false', "afalse"),
    ],
)
def test_plus_with_a_string_on_either_side_is_a_string(text: str, expected: str) -> None:
    """Data types, "Implicit data type conversions", the + operator table
    (https://cloud.google.com/workflows/docs/reference/syntax/datatypes): INTEGER, DOUBLE
    and BOOL with STRING, on either side, give a STRING."""
    assert run(text) == expected


@pytest.mark.parametrize("text", ["true + 1", "1.5 + false", "true + true", 'null + "a"', '"a" + [1]'])
def test_plus_on_a_boolean_without_a_string_is_a_type_error(text: str) -> None:
    """The same table: BOOL with INTEGER, DOUBLE or BOOL is an ERROR; null and lists are
    not in the table at all."""
    with pytest.raises(WorkflowError) as caught:
        run(text)
    assert caught.value.tags == ["TypeError"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 == 1.0", True),
        ("2 != 2.5", True),
        ('"a" == "a"', True),
        ('1 == "1"', False),
        ("null == null", True),
        ('[1, {"a": 2}] == [1.0, {"a": 2}]', True),
        ('{"a": 1} != {"a": 1, "b": 2}', True),
        ("true == 1", False),
        ("1 < 1.5", True),
        ('"abc" < "abd"', True),
        ('"b" >= "a"', True),
        ("2 <= 2.0", True),
        ("3 > 4", False),
    ],
)
def test_comparisons(text: str, expected: bool) -> None:
    """Integers and doubles compare by value; values of different types are never equal."""
    assert run(text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('"Key1" in ["Key1", "Key2"]', True),
        ("2 in [1, 2.0]", True),
        ('"a" in {"a": null}', True),
        ('"b" in {"a": 1}', False),
        ("[1] in [[1], [2]]", True),
    ],
)
def test_in_checks_list_items_and_map_keys(text: str, expected: bool) -> None:
    """Expression helpers: "in() Checks whether a given key is present in a list or map"."""
    assert run(text) is expected


def test_and_or_short_circuit() -> None:
    """The right operand is not evaluated once the left one decides the result."""
    assert run("false and missing.key") is False
    assert run("true or missing.key") is True


# ---- access -------------------------------------------------------------------


def test_property_and_index_access() -> None:
    """Expressions: object.field, object["field"], list[index]; nested keys chain (Maps)."""
    data = {"body": {"items": [{"name": "a"}, {"name": "b"}]}, "k": "items"}
    assert run("data.body.items[1].name", data=data) == "b"
    assert run('data["body"][data.k][0]["name"]', data=data) == "a"
    assert run("data.body.items[len(data.body.items) - 1].name", data=data) == "b"


def test_library_names_are_values() -> None:
    """Retry steps: `retry: ${http.default_retry}`; `predicate: ${http.default_retry_predicate}`."""
    policy = run("http.default_retry_non_idempotent")
    assert policy == {
        "predicate": FunctionRef("http.default_retry_predicate_non_idempotent"),
        "max_retries": 5,
        "backoff": {"initial_delay": 1, "max_delay": 60, "multiplier": 1.25},
    }
    assert run("http.default_retry_predicate") == FunctionRef("http.default_retry_predicate")
    assert run("retry.default_backoff.multiplier") == 1.25


def test_a_variable_shadows_a_library_namespace() -> None:
    assert run("http.default_retry", http={"default_retry": "mine"}) == "mine"


# ---- runtime errors -----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "variables", "tag"),
    [
        ("m.missing", {"m": {"a": 1}}, "KeyError"),
        ('m["missing"]', {"m": {}}, "KeyError"),
        ("undefined_variable", {}, "KeyError"),
        ("xs[3]", {"xs": [1, 2, 3]}, "IndexError"),
        ("xs[-1]", {"xs": [1, 2, 3]}, "IndexError"),
        ('xs["0"]', {"xs": [1]}, "TypeError"),
        ("xs[0.0]", {"xs": [1]}, "TypeError"),
        ("s.field", {"s": "text"}, "TypeError"),
        ("n[0]", {"n": 5}, "TypeError"),
        ("m[1]", {"m": {"1": 1}}, "TypeError"),
        ('"a" + null', {}, "TypeError"),
        ("1 + null", {}, "TypeError"),
        ("[1] + [2]", {}, "TypeError"),
        ('"a" * 3', {}, "TypeError"),
        ('1 < "2"', {}, "TypeError"),
        ("null < 1", {}, "TypeError"),
        ("[1] < [2]", {}, "TypeError"),
        ('-"x"', {}, "TypeError"),
        ("not 1", {}, "TypeError"),
        ("1 and true", {}, "TypeError"),
        ("false or 2", {}, "TypeError"),
        ('1 in "abc"', {}, "TypeError"),
        ("1 / 0", {}, "ZeroDivisionError"),
        ("1.5 / 0.0", {}, "ZeroDivisionError"),
        ("1 // 0", {}, "ZeroDivisionError"),
        ("5 % 0", {}, "ZeroDivisionError"),
        ("9223372036854775807 + 1", {}, "ValueError"),
        ("-9223372036854775808 - 1", {}, "ValueError"),
        ("4611686018427387904 * 2", {}, "ValueError"),
        ("-n", {"n": INT64_MIN}, "ValueError"),
        ("-9223372036854775808 // -1", {}, "ValueError"),
    ],
)
def test_runtime_errors_carry_workflows_tags(text: str, variables: dict[str, Any], tag: str) -> None:
    """Workflows errors: KeyError, IndexError, TypeError, ValueError, ZeroDivisionError tags."""
    error = raises_tag(tag, text, **variables)
    assert isinstance(error.value["message"], str)
    assert error.value["message"]


def test_key_error_names_the_key() -> None:
    assert "missing" in raises_tag("KeyError", "m.missing", m={}).value["message"]


# ---- syntax errors ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "offset"),
    [
        ("1 +", 3),
        ("(1 + 2", 6),
        ('"open', 0),
        ("a.", 2),
        ("1 2", 2),
        ("a ? b", 2),
        (r'"bad \q escape"', 5),
        ("[1, 2", 5),
        ('{"a" 1}', 5),
        ("f(1,)", 4),
        ("a[0](1)", 4),
        ("1e", 1),
        ("3abc", 0),
        ("", 0),
        ("\u00b2", 0),  # a superscript two is not an ASCII digit
    ],
)
def test_syntax_errors_point_at_the_offending_character(text: str, offset: int) -> None:
    with pytest.raises(ExpressionSyntaxError) as caught:
        parse_expression(text)
    assert caught.value.offset == offset
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize(
    "text",
    [
        "(" * 5000 + "1" + ")" * 5000,
        "[" * 5000 + "]" * 5000,
        '{"a": ' * 3000 + "1" + "}" * 3000,
        "-" * 10_000 + "1",
        "not " * 10_000 + "true",
        "+".join(["1"] * 20_000),
        "x" + "[0]" * 5000,
    ],
)
def test_an_expression_nested_past_the_limit_is_a_syntax_error(text: str) -> None:
    """Google limits an expression's length without giving the number (Expressions,
    https://cloud.google.com/workflows/docs/reference/syntax/expressions): here nesting past
    100 levels, operators of a chain included, is a syntax error (Python's RecursionError
    came out of the parser or the deploy-time checks before)."""
    with pytest.raises(ExpressionSyntaxError) as caught:
        parse_expression(text)

    assert "nests more than 100 levels deep" in caught.value.message


def test_an_expression_up_to_the_limit_evaluates() -> None:
    assert run("(" * 99 + "1" + ")" * 99) == 1
    assert run("+".join(["1"] * 100)) == 100
    assert run("not " * 98 + "true") is True


# ---- compiled YAML values -----------------------------------------------------


def test_only_whole_dollar_brace_strings_are_expressions() -> None:
    """Expressions: "All expressions must begin with a $ and be enclosed in curly brackets";
    Workflows has no interpolation, so other strings stay literal text."""
    assert compile_value("Hello ${name}") == Const("Hello ${name}")
    assert compile_value("plain") == Const("plain")
    assert compile_value(3) == Const(3)
    assert isinstance(compile_value("${a + 1}"), Expression)
    assert isinstance(compile_value("  ${a + 1}\n"), Expression)


def test_compile_value_recurses_and_keys_may_be_expressions() -> None:
    """Maps: `myMap: {"${dynamicKey}": "myValue"}` builds a map with a computed key."""
    compiled = compile_value({"${key}": ["${n * 2}", "x", {"inner": "${n}"}], "fixed": True})
    assert isinstance(compiled, MapValue)
    assert isinstance(compiled.entries[0][1], ListValue)
    ctx = LibraryContext({"key": "dynamic", "n": 21})
    assert evaluate_value(compiled, ctx) == {"dynamic": [42, "x", {"inner": 21}], "fixed": True}


def test_literal_lists_are_fresh_each_time() -> None:
    compiled = compile_value([1, [2]])
    ctx = LibraryContext()
    first = evaluate_value(compiled, ctx)
    first[1].append(3)
    assert evaluate_value(compiled, ctx) == [1, [2]]


def test_same_text_parses_once() -> None:
    """A step in a loop is parsed once: the same text gives the same AST object."""
    assert parse_expression("a.b + 1") is parse_expression("a.b + 1")
    assert compile_value("${x * 2}").expr is compile_value("${x * 2}").expr


def test_references_lists_called_functions() -> None:
    compiled = compile_value({"u": '${"a" + sys.get_env("X")}', "n": ["${len(keys(m)) + math.max(1, 2)}"]})
    assert references(compiled) == {"sys.get_env", "len", "keys", "math.max"}
    assert references(compile_value("${http.default_retry}")) == set()


# ---- assignment ---------------------------------------------------------------


def do_assign(text: str, value: Any, ctx: LibraryContext) -> None:
    """As the interpreter assigns: a path is located, then stored (copied, like a variable)."""
    target = parse_target(text)
    if target.path:
        locate(target, copy_value(value), ctx).store()
    else:
        assign(target, value, ctx)


def test_assign_refuses_a_path() -> None:
    """A path goes through `locate` (the interpreter counts the memory it adds), never `assign`."""
    ctx = LibraryContext({"m": {}})
    with pytest.raises(ValueError, match="locate"):
        assign(parse_target("m.a"), 1, ctx)
    assert ctx.variables["m"] == {}


def test_assignment_targets_update_in_place() -> None:
    """Maps and Lists: `my_map.Key1: v`, `my_map["Key2"]: v`, `my_map[key_str + "3"]: v`,
    `my_list[idx + 1]: v`."""
    ctx = LibraryContext({"my_map": {"Key1": "hello"}, "key_str": "Key", "my_list": [0, 0, 0], "idx": 0})
    do_assign("my_map.Key1", "Value1", ctx)
    do_assign('my_map["Key2"]', "Value2", ctx)
    do_assign('my_map[key_str + "3"]', "Value3", ctx)
    do_assign("my_list[idx + 1]", 1, ctx)
    do_assign("my_list[len(my_list) - 1]", 2, ctx)
    assert ctx.variables["my_map"] == {"Key1": "Value1", "Key2": "Value2", "Key3": "Value3"}
    assert ctx.variables["my_list"] == [0, 1, 2]


def test_assignment_creates_missing_nested_map_keys() -> None:
    ctx = LibraryContext({"a": {}})
    do_assign("a.b.c", 1, ctx)
    assert ctx.variables["a"] == {"b": {"c": 1}}


def test_assignment_copies_so_variables_never_alias() -> None:
    ctx = LibraryContext({"src": {"list": [1]}})
    do_assign("dst", ctx.variables["src"], ctx)
    do_assign("dst.list[0]", 99, ctx)
    assert ctx.variables["src"] == {"list": [1]}


@pytest.mark.parametrize(
    ("target", "variables", "tag"),
    [
        ("xs[5]", {"xs": [1]}, "IndexError"),
        ('xs["a"]', {"xs": [1]}, "TypeError"),
        ("s.key", {"s": "text"}, "TypeError"),
        ("missing.key", {}, "KeyError"),
        ("m[1]", {"m": {}}, "TypeError"),
        ("m.a[0]", {"m": {}}, "TypeError"),
        ("m.a.b[0]", {"m": {}}, "TypeError"),
    ],
)
def test_assignment_errors_leave_the_variable_as_it_was(
    target: str, variables: dict[str, Any], tag: str
) -> None:
    """A failed assignment changes nothing, not even the maps its path would have created."""
    before = copy.deepcopy(variables)
    with pytest.raises(WorkflowError) as caught:
        do_assign(target, 1, LibraryContext(variables))
    assert caught.value.tags == [tag]
    assert variables == before


@pytest.mark.parametrize("text", ["", "1", "a.", "a[0", "a b", "f(x)", "a.b()"])
def test_malformed_targets(text: str) -> None:
    with pytest.raises(ExpressionSyntaxError):
        parse_target(text)


def test_function_calls_go_through_the_context() -> None:
    """Expressions: "Functions such as len() can be used in expressions"; blocking ones cannot."""
    assert run('len("héllo") + len([1, 2])') == 7
    raises_tag("TypeError", 'http.get("https://example.com")')
    raises_tag("TypeError", 'sys.log("x")')
