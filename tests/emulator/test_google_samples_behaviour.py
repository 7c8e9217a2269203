"""Behaviour that Google's published workflow samples rely on, stated in small workflows of our own.

The samples of GoogleCloudPlatform/workflows-samples and workflows-demos were run on the
local engine; where one disagreed with the documentation, the documented behaviour is
checked here.
"""

from __future__ import annotations

from tests.engine.interpreter_support import result_of

DATA_TYPES = "https://cloud.google.com/workflows/docs/reference/syntax/datatypes"


def test_only_the_documented_spellings_are_booleans() -> None:
    """Data types page (DATA_TYPES): "Boolean (`true`/`false`, `True`/`False`, `TRUE`/`FALSE`)".

    Other words a YAML 1.1 reader takes for booleans (`yes`, `no`, `on`, `off`) are text: a
    list of country codes keeps Norway's `NO`, and a map key `on` stays "on".
    """
    source = """
- init:
    assign:
      - flags: [true, True, TRUE, false, False, FALSE]
      - words: [yes, no, on, off, Yes, NO, y, n]
      - switches: {on: 1, off: 0}
- done:
    return: [${flags}, ${words}, ${switches}]
"""
    assert result_of(source) == [
        [True, True, True, False, False, False],
        ["yes", "no", "on", "off", "Yes", "NO", "y", "n"],
        {"on": 1, "off": 0},
    ]


def test_a_date_written_in_the_source_is_text() -> None:
    """Data types page (DATA_TYPES): "The Workflows syntax supports the following data types:
    Integer, Double, String, Boolean, Bytes, Null" (and lists and maps): there is no date.

    A YAML 1.1 reader makes `2024-01-01` a date, which ended the execution with an internal
    engine error; it is the string as written, and a string can be compared and sent.
    """
    source = """
- init:
    assign:
      - day: 2024-01-01
      - moment: 2001-12-14t21:59:43.10-05:00
      - body:
          since: 2024-02-29
- done:
    return: [${day}, ${moment}, ${body}, ${day == "2024-01-01"}]
"""
    assert result_of(source) == [
        "2024-01-01",
        "2001-12-14t21:59:43.10-05:00",
        {"since": "2024-02-29"},
        True,
    ]
