"""Expression tokenizer: the text inside `${...}` -> tokens with their offsets.

Offsets let a syntax error point at the character that broke it, which is what a
workflow author needs when a deploy is refused.
"""

from __future__ import annotations

from typing import Any, NamedTuple

# Token kinds.
NUMBER = "number"
STRING = "string"
NAME = "name"
KEYWORD = "keyword"
OP = "op"
EOF = "eof"

# "Boolean (true/false, True/False, TRUE/FALSE)" -- data types. Null has one spelling there.
_LITERALS: dict[str, Any] = {
    "true": True,
    "True": True,
    "TRUE": True,
    "false": False,
    "False": False,
    "FALSE": False,
    "null": None,
}
# "The following logical operators can be lower-case or upper-case (but not
# mixed-case): and, or, not" -- data types, Logical operators.
_WORD_OPERATORS = {"and": "and", "AND": "and", "or": "or", "OR": "or", "not": "not", "NOT": "not", "in": "in"}

# Longest first, so that "//" wins over "/" and "<=" over "<".
_SYMBOLS = (
    "//",
    "<=",
    ">=",
    "==",
    "!=",
    "+",
    "-",
    "*",
    "/",
    "%",
    "<",
    ">",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ",",
    ".",
    ":",
)

# ASCII only ("²".isdigit() is true); a slice past the end is "", which is not in the set.
_DIGITS = frozenset("0123456789")

_ESCAPES = {'"': '"', "'": "'", "\\": "\\", "/": "/", "n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f"}


class ExpressionSyntaxError(ValueError):
    """An expression that cannot be scanned or parsed; `offset` is where, in the expression text."""

    def __init__(self, message: str, offset: int) -> None:
        self.message = message
        self.offset = offset
        super().__init__(f"{message} (at offset {offset})")


class Token(NamedTuple):
    """`value` is the literal value for NUMBER/STRING/KEYWORD-literal, else the canonical text."""

    kind: str
    value: Any
    offset: int
    text: str


def scan(text: str) -> list[Token]:
    """All tokens of `text`, ending with an EOF token."""
    tokens: list[Token] = []
    i = 0
    while i < len(text):
        c = text[i]
        if c.isspace():
            i += 1
        elif c in _DIGITS:
            i = _number(text, i, tokens)
        elif c in "\"'":
            i = _string(text, i, tokens)
        elif c.isalpha() or c == "_":
            i = _word(text, i, tokens)
        else:
            symbol = next((s for s in _SYMBOLS if text.startswith(s, i)), None)
            if symbol is None:
                raise ExpressionSyntaxError(f"unexpected character {c!r}", i)
            tokens.append(Token(OP, symbol, i, symbol))
            i += len(symbol)
    tokens.append(Token(EOF, None, len(text), ""))
    return tokens


def _number(text: str, start: int, tokens: list[Token]) -> int:
    i = _digits(text, start)
    is_double = False
    if text[i : i + 1] == "." and text[i + 1 : i + 2] in _DIGITS:
        i = _digits(text, i + 1)
        is_double = True
    if i < len(text) and text[i] in "eE":
        j = i + 1
        if j < len(text) and text[j] in "+-":
            j += 1
        if text[j : j + 1] not in _DIGITS:
            raise ExpressionSyntaxError("malformed exponent", i)
        i = _digits(text, j)
        is_double = True
    if i < len(text) and (text[i].isalpha() or text[i] == "_"):
        raise ExpressionSyntaxError(f"malformed number {text[start : i + 1]!r}", start)
    literal = text[start:i]
    tokens.append(Token(NUMBER, float(literal) if is_double else int(literal), start, literal))
    return i


def _digits(text: str, i: int) -> int:
    while i < len(text) and text[i] in _DIGITS:
        i += 1
    return i


def _string(text: str, start: int, tokens: list[Token]) -> int:
    quote = text[start]
    chars: list[str] = []
    i = start + 1
    while True:
        if i >= len(text):
            raise ExpressionSyntaxError("unterminated string", start)
        c = text[i]
        if c == quote:
            break
        if c == "\\":
            i += 1
            if i >= len(text):
                raise ExpressionSyntaxError("unterminated string", start)
            e = text[i]
            if e == "u":
                hex_digits = text[i + 1 : i + 5]
                if len(hex_digits) != 4 or any(h not in "0123456789abcdefABCDEF" for h in hex_digits):
                    raise ExpressionSyntaxError("malformed \\u escape", i - 1)
                chars.append(chr(int(hex_digits, 16)))
                i += 4
            elif e in _ESCAPES:
                chars.append(_ESCAPES[e])
            else:
                raise ExpressionSyntaxError(f"unknown escape \\{e}", i - 1)
        else:
            chars.append(c)
        i += 1
    tokens.append(Token(STRING, "".join(chars), start, text[start : i + 1]))
    return i + 1


def _word(text: str, start: int, tokens: list[Token]) -> int:
    i = start
    while i < len(text) and (text[i].isalnum() or text[i] == "_"):
        i += 1
    word = text[start:i]
    if word in _LITERALS:
        tokens.append(Token(KEYWORD, _LITERALS[word], start, word))
    elif word in _WORD_OPERATORS:
        tokens.append(Token(OP, _WORD_OPERATORS[word], start, word))
    else:
        tokens.append(Token(NAME, word, start, word))
    return i
