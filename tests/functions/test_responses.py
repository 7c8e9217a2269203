"""The edge (common.responses), in process: each refusal of the data layer answers with its status
and reason as JSON, as the functions answered before the data layer stopped choosing statuses."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import flask
import pytest

from approvals.emulator.functions import FUNCTIONS


@pytest.fixture(autouse=True)
def _empty_database() -> None:
    """No database here: no emulator starts for these (the folder's fixture empties one)."""


@pytest.fixture
def common(monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    """The functions' common package, imported as a deployed function imports it."""
    monkeypatch.syspath_prepend(str(FUNCTIONS))
    import common.errors
    import common.responses

    yield common


def answer(common: ModuleType, handler: Callable[[flask.Request], dict[str, Any]]) -> flask.Response:
    """What a POST function built on ``handler`` answers."""
    endpoint = common.responses.post_json_endpoint(handler)
    with flask.Flask(__name__).test_request_context("/", method="POST"):
        return endpoint(flask.request)


def refusing(error: Exception) -> Callable[[flask.Request], dict[str, Any]]:
    def handler(_: flask.Request) -> dict[str, Any]:
        raise error

    return handler


@pytest.mark.parametrize(
    ("kind", "status"),
    [
        ("NotFoundError", 404),
        ("NotAllowedError", 403),
        ("ConflictError", 409),
        ("LimitReachedError", 429),
        ("UnavailableError", 503),
    ],
)
def test_a_refusal_answers_its_status_and_reason(common: ModuleType, kind: str, status: int) -> None:
    response = answer(common, refusing(getattr(common.errors, kind)("the reason", ["a detail"])))

    assert response.status_code == status
    assert response.get_json() == {"error": "the reason", "details": ["a detail"]}
    assert response.headers["Cache-Control"] == "no-store"


def test_every_kind_of_refusal_has_an_answer(common: ModuleType) -> None:
    """A refusal added without a status would answer a bare 500 'internal error'."""
    kinds = common.errors.DomainError.__subclasses__()

    statuses = {kind.__name__: common.responses.http_error(kind("why", None)).status for kind in kinds}

    assert len(statuses) == 6 and 500 not in statuses.values()


def test_a_failed_upstream_answers_502_with_an_incident_and_no_detail(
    common: ModuleType, caplog: pytest.LogCaptureFixture
) -> None:
    failure = common.errors.UpstreamError("could not deliver the decision", "callback https://secret.example")

    response = answer(common, refusing(failure))

    assert response.status_code == 502
    reason = response.get_json()["error"]
    assert reason.startswith("could not deliver the decision (incident ") and "secret" not in reason
    incident = reason.removesuffix(")").rsplit(" ", 1)[-1]
    assert any(incident in r.getMessage() and "secret" in r.getMessage() for r in caplog.records)
