"""Expression parser (precedence climbing) and the compiler for YAML values.

Precedence follows "Order of operations" in Workflows data types, most binding
first: `()`, `.`, `[]`, `not`, unary `-`, `* / // %`, `+ -`,
`< <= >= > == != in`, `and`, `or`. Note that `not` binds tighter than the
comparisons: `not a == b` is `(not a) == b`, so write `not (a == b)`.

Workflows has no string interpolation: only a YAML string that is entirely
`${...}` is an expression ("All expressions must begin with a $ and be enclosed
in curly brackets", Expressions); any other string is literal text.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from typing import Any, NamedTuple

from approvals.engine.language.scanner import (
    EOF,
    KEYWORD,
    NAME,
    NUMBER,
    OP,
    STRING,
    ExpressionSyntaxError,
    Token,
    scan,
)
from approvals.engine.runtime.values import INT64_MAX, INT64_MIN, check_int, stringify

# ---- expression AST ---------------------------------------------------------
#
# The nodes here and in `definition`, like the engine's other records, are NamedTuples, not
# frozen dataclasses, for the start of `python -m emulator run`: Python 3.11 compiles every
# method a dataclass generates on its own, and the 58 dataclasses a one-step run imported
# took about 18 ms to create (plus 5 ms importing dataclasses and inspect), against about
# 4 ms now, where the whole run may take twice `import yaml` (about 30 ms). NamedTuples stay
# immutable and hashable; but they are tuples, so nodes of two classes with equal fields
# compare equal (`Literal(1) == Const(1)`): nothing compares nodes, and code that tells them
# apart does so by class (isinstance, match), never by `==`.


class Literal(NamedTuple):
    value: Any


class Name(NamedTuple):
    name: str


class Attribute(NamedTuple):
    """`target.name`: a map key, or part of a dotted library name such as `http.default_retry`."""

    target: Expr
    name: str


class Index(NamedTuple):
    target: Expr
    index: Expr


class Call(NamedTuple):
    """A function call; Workflows calls functions by (dotted) name only."""

    name: str
    args: tuple[Expr, ...]


class Unary(NamedTuple):
    op: str  # "-" or "not"
    operand: Expr


class Binary(NamedTuple):
    op: str
    left: Expr
    right: Expr


class ListLiteral(NamedTuple):
    items: tuple[Expr, ...]


class MapLiteral(NamedTuple):
    entries: tuple[tuple[Expr, Expr], ...]


Expr = Literal | Name | Attribute | Index | Call | Unary | Binary | ListLiteral | MapLiteral


# ---- compiled YAML values ---------------------------------------------------


class Const(NamedTuple):
    """A literal scalar from the YAML (lists and maps compile to ListValue / MapValue)."""

    value: Any


class Expression(NamedTuple):
    expr: Expr
    text: str


class ListValue(NamedTuple):
    items: tuple[Compiled, ...]


class MapValue(NamedTuple):
    """Keys are compiled too: `{"${dynamicKey}": "myValue"}` is documented (Maps)."""

    entries: tuple[tuple[Compiled, Compiled], ...]


Compiled = Const | Expression | ListValue | MapValue


class Target(NamedTuple):
    """An assignment target: `name` then map keys (`.key` is a Literal) or `[expr]` subscripts."""

    name: str
    path: tuple[Expr, ...]


# ---- public entry points ----------------------------------------------------


# How deeply an expression may nest: parentheses, lists, maps, `not` and `-`, and each
# operator of a chain such as `a + b + c`. The parser and the evaluator recurse once per
# level; Google says "There is a limit to the expression length" (Expressions,
# https://cloud.google.com/workflows/docs/reference/syntax/expressions) without a number.
MAX_EXPRESSION_DEPTH = 100


@lru_cache(maxsize=4096)
def parse_expression(text: str) -> Expr:
    """The AST of the text inside `${...}`; the same text gives the same (immutable) AST."""
    parser = _Parser(scan(text))
    expr = parser.expression()
    parser.expect_end()
    if _depth(expr) > MAX_EXPRESSION_DEPTH:
        raise ExpressionSyntaxError(_TOO_DEEP, 0)
    return expr


_TOO_DEEP = f"the expression nests more than {MAX_EXPRESSION_DEPTH} levels deep"


def _depth(expr: Expr) -> int:
    """How many nodes the longest path from `expr` down holds."""
    deepest = 0
    pending = [(expr, 1)]
    while pending:
        node, depth = pending.pop()
        deepest = max(deepest, depth)
        pending.extend((child, depth + 1) for child in operands(node))
    return deepest


def compile_value(raw: Any) -> Compiled:
    """A YAML value with every `${...}` string parsed, so a step in a loop is parsed once."""
    if isinstance(raw, str):
        inner = expression_text(raw)
        return Const(raw) if inner is None else Expression(parse_expression(inner), raw)
    if isinstance(raw, list):
        return ListValue(tuple(compile_value(item) for item in raw))
    if isinstance(raw, dict):
        return MapValue(tuple((compile_value(_key_text(k)), compile_value(v)) for k, v in raw.items()))
    if isinstance(raw, int) and not isinstance(raw, bool):
        check_int(raw)
    return Const(raw)


def expression_text(raw: str) -> str | None:
    """The text inside `${...}` if `raw` is one expression, else None."""
    s = raw.strip()
    if s.startswith("${") and s.endswith("}"):
        return s[2:-1]
    return None


def parse_target(text: str) -> Target:
    """An assignment target such as `a`, `a.b`, `a["b"][0]` or `my_list[idx + 1]`."""
    parser = _Parser(scan(text))
    head = parser.take(NAME, "an assignment target must start with a variable name")
    path: list[Expr] = []
    while not parser.at(EOF):
        if parser.accept(OP, "."):
            path.append(Literal(parser.take(NAME, "expected a key name after '.'").value))
        elif parser.accept(OP, "["):
            path.append(parser.expression())
            parser.take_op("]")
        else:
            raise parser.error("expected '.', '[' or the end of the assignment target")
    return Target(head.value, tuple(path))


def references(compiled: Compiled | Expr) -> set[str]:
    """Names of the functions a compiled value or expression calls, for deploy-time checks."""
    return {call.name for call in calls_in(compiled)}


def calls_in(node: Compiled | Expr) -> Iterator[Call]:
    """Every function call in a compiled value or expression, arguments' calls included."""
    match node:
        case Expression(expr=expr):
            yield from calls_in(expr)
            return
        case Call():
            yield node
    for child in operands(node):
        yield from calls_in(child)


def dotted_name(expr: Expr) -> str | None:
    """`a.b.c` for a chain of names, else None (a retry predicate names a function this way)."""
    if isinstance(expr, Name):
        return expr.name
    if isinstance(expr, Attribute):
        head = dotted_name(expr.target)
        return None if head is None else f"{head}.{expr.name}"
    return None


def source_value(compiled: Compiled) -> Any:
    """The YAML value `compiled` was made from, each expression as its `${...}` text."""
    match compiled:
        case Const(value=value):
            return value
        case Expression(text=text):
            return text
        case ListValue(items=items):
            return [source_value(item) for item in items]
        case MapValue(entries=entries):
            return {source_value(key): source_value(value) for key, value in entries}


def expressions_in(compiled: Compiled) -> Iterator[Expression]:
    """Every `${...}` of a compiled value, keys included, in document order."""
    match compiled:
        case Expression():
            yield compiled
        case ListValue(items=items):
            for item in items:
                yield from expressions_in(item)
        case MapValue(entries=entries):
            for key, value in entries:
                yield from expressions_in(key)
                yield from expressions_in(value)


def subexpressions(expr: Expr) -> Iterator[Expr]:
    """`expr` and every expression inside it, outermost first."""
    pending = [expr]
    while pending:
        node = pending.pop()
        yield node
        pending.extend(reversed(operands(node)))


def _key_text(key: Any) -> Any:
    # YAML allows `1: x` or `true: x`; a Workflows map key is a string.
    return key if isinstance(key, str) else stringify(key)


def operands(node: Any) -> tuple[Any, ...]:
    """The nodes directly inside an expression node or a compiled value."""
    match node:
        case Attribute(target=t):
            return (t,)
        case Index(target=t, index=i):
            return (t, i)
        case Call(args=args):
            return args
        case Unary(operand=o):
            return (o,)
        case Binary(left=left, right=right):
            return (left, right)
        case ListLiteral(items=items) | ListValue(items=items):
            return items
        case MapLiteral(entries=entries) | MapValue(entries=entries):
            return tuple(part for entry in entries for part in entry)
    return ()


# Binding power of each binary operator; higher binds tighter.
_BINARY = {
    "or": 1,
    "and": 2,
    **dict.fromkeys(("<", "<=", ">", ">=", "==", "!=", "in"), 3),
    **dict.fromkeys(("+", "-"), 4),
    **dict.fromkeys(("*", "/", "//", "%"), 5),
}


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.pos = 0
        self.nesting = 0  # operands being parsed inside one another

    # -- token helpers
    @property
    def current(self) -> Token:
        return self.tokens[self.pos]

    def at(self, kind: str, value: Any = None) -> bool:
        token = self.current
        return token.kind == kind and (value is None or token.value == value)

    def accept(self, kind: str, value: Any = None) -> Token | None:
        if self.at(kind, value):
            token = self.current
            self.pos += 1
            return token
        return None

    def take(self, kind: str, message: str) -> Token:
        token = self.accept(kind)
        if token is None:
            raise self.error(message)
        return token

    def take_op(self, symbol: str) -> Token:
        token = self.accept(OP, symbol)
        if token is None:
            raise self.error(f"expected '{symbol}'")
        return token

    def error(self, message: str) -> ExpressionSyntaxError:
        token = self.current
        found = "end of expression" if token.kind == EOF else repr(token.text)
        return ExpressionSyntaxError(f"{message}, found {found}", token.offset)

    def expect_end(self) -> None:
        if not self.at(EOF):
            raise self.error("unexpected token")

    # -- grammar
    def expression(self, min_power: int = 1) -> Expr:
        left = self.unary()
        while self.current.kind == OP and _BINARY.get(self.current.value, 0) >= min_power:
            op = self.current.value
            self.pos += 1
            # Left-associative: the right operand binds strictly tighter.
            right = self.expression(_BINARY[op] + 1)
            left = Binary(op, left, right)
        return left

    def unary(self) -> Expr:
        # Every nested operand comes through here: stop before Python's recursion limit does.
        if self.nesting >= MAX_EXPRESSION_DEPTH:
            raise self.error(_TOO_DEEP)
        self.nesting += 1
        try:
            return self.operand()
        finally:
            self.nesting -= 1

    def operand(self) -> Expr:
        if self.accept(OP, "not"):
            return Unary("not", self.unary())
        if self.accept(OP, "-"):
            number = self.accept(NUMBER)
            if number is not None:
                # Fold so that -9223372036854775808 is a valid literal.
                return self.postfix(self.number(number, negate=True))
            return Unary("-", self.unary())
        return self.postfix(self.primary())

    def number(self, token: Token, negate: bool = False) -> Literal:
        value = -token.value if negate else token.value
        if isinstance(value, int) and not INT64_MIN <= value <= INT64_MAX:
            raise ExpressionSyntaxError(
                f"integer literal {token.text} is outside the 64-bit range", token.offset
            )
        return Literal(value)

    def primary(self) -> Expr:
        token = self.current
        if token.kind == NUMBER:
            self.pos += 1
            return self.number(token)
        if token.kind in (STRING, KEYWORD):
            self.pos += 1
            return Literal(token.value)
        if token.kind == NAME:
            self.pos += 1
            return Name(token.value)
        if self.accept(OP, "("):
            inner = self.expression()
            self.take_op(")")
            return inner
        if self.accept(OP, "["):
            return ListLiteral(tuple(self.sequence("]")))
        if self.accept(OP, "{"):
            return MapLiteral(tuple(self.entries()))
        raise self.error("expected a value")

    def postfix(self, expr: Expr) -> Expr:
        while True:
            if self.accept(OP, "."):
                expr = Attribute(expr, self.take(NAME, "expected a key name after '.'").value)
            elif self.accept(OP, "["):
                expr = Index(expr, self.expression())
                self.take_op("]")
            elif self.at(OP, "("):
                name = dotted_name(expr)
                if name is None:
                    raise self.error("only a function name can be called")
                self.pos += 1
                expr = Call(name, tuple(self.sequence(")")))
            else:
                return expr

    def sequence(self, close: str) -> list[Expr]:
        items: list[Expr] = []
        if self.accept(OP, close):
            return items
        while True:
            items.append(self.expression())
            if self.accept(OP, close):
                return items
            self.take_op(",")

    def entries(self) -> list[tuple[Expr, Expr]]:
        entries: list[tuple[Expr, Expr]] = []
        if self.accept(OP, "}"):
            return entries
        while True:
            key = self.expression()
            self.take_op(":")
            entries.append((key, self.expression()))
            if self.accept(OP, "}"):
                return entries
            self.take_op(",")
