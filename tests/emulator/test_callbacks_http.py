"""Callback endpoints over real HTTP, with the status codes of Google's "Wait using callbacks".

Facts checked there and in the events.* reference: an endpoint holds one
pending request (a call while it is full gets 429); a call nobody awaits yet
is stored for the next await (200); once the execution has ended the endpoint
is gone (404); callers need an OAuth bearer token; the awaited result is
{http_request: {body, headers, method, query, url}, received_time, type: "HTTP"}
with a JSON body decoded.
"""

from __future__ import annotations

import itertools
import urllib.parse
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from approvals.engine.api.access import Access
from approvals.engine.api.server import WorkflowsServer, loopback_url
from approvals.engine.runtime import engine as engine_module
from approvals.engine.runtime.clock import VirtualClock
from approvals.engine.runtime.engine import Engine
from approvals.engine.runtime.store import Store

CallBack = Callable[..., requests.Response]

# Awaits twice on one endpoint with a nap in between, then returns both bodies.
TWO_AWAITS = """
main:
  steps:
    - create:
        call: events.create_callback_endpoint
        args:
          http_callback_method: POST
        result: callback
    - first:
        call: events.await_callback
        args:
          callback: ${callback}
          timeout: 3600
        result: one
    - nap:
        call: sys.sleep
        args:
          seconds: 60
    - second:
        call: events.await_callback
        args:
          callback: ${callback}
          timeout: 3600
        result: two
    - done:
        return: ${[one.http_request.body, two.http_request.body]}
"""

# TWO_AWAITS with a 5 s nap between creating the endpoint and the first await.
NAP_FIRST = TWO_AWAITS.replace(
    "    - first:",
    "    - early_nap:\n        call: sys.sleep\n        args:\n          seconds: 5\n    - first:",
    1,
)

RETURN_REQUEST = """
main:
  steps:
    - create:
        call: events.create_callback_endpoint
        args:
          http_callback_method: PUT
        result: callback
    - wait:
        call: events.await_callback
        args:
          callback: ${callback}
        result: request
    - done:
        return: ${request}
"""


def callback_url(engine: Engine, execution_id: str) -> str:
    [callback] = engine.list_callbacks(execution_id)
    return engine.callback_url(engine.get(execution_id).workflow, execution_id, callback.id)


def start(engine: Engine, source: str, workflow: str = "wf") -> tuple[str, str]:
    """Deploy and start `source`; returns (execution id, callback URL) once it waits."""
    engine.deploy(workflow, source)
    execution = engine.start(workflow)
    engine.wait_idle()
    return execution.id, callback_url(engine, execution.id)


def test_the_url_has_googles_shape_and_points_at_the_server(engine: Engine, server: WorkflowsServer) -> None:
    execution_id, url = start(engine, TWO_AWAITS)
    parts = urllib.parse.urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" == server.url
    prefix = (
        f"/v1/projects/123456789012/locations/us-central1/workflows/wf/executions/{execution_id}/callbacks/"
    )
    assert parts.path.startswith(prefix)


def test_the_awaited_request_map(engine: Engine, server: WorkflowsServer, call_back: CallBack) -> None:
    execution_id, url = start(engine, RETURN_REQUEST)

    answer = call_back(f"{url}?lang=fr&lang=de", {"approved": True, "n": 3}, method="PUT")
    engine.wait_idle()

    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = engine.get(execution_id).result
    assert set(result) == {"http_request", "received_time", "type"}
    assert result["type"] == "HTTP"
    request = result["http_request"]
    assert request["body"] == {"approved": True, "n": 3}
    assert request["method"] == "PUT"
    assert request["query"] == {"lang": ["fr", "de"]}
    assert request["url"].startswith(urllib.parse.urlsplit(url).path)
    assert request["headers"]["Content-Type"] == "application/json"
    # The caller's token stays out of the workflow's variables.
    assert "Authorization" not in request["headers"]
    assert result["received_time"].startswith("2024-01-01T00:00:00")


def test_one_pending_slot_429_while_full_and_awaiting_again_works(
    engine: Engine, server: WorkflowsServer, call_back: CallBack
) -> None:
    execution_id, url = start(engine, TWO_AWAITS)

    # Awaited: delivered at once.
    assert call_back(url, "a").status_code == 200
    engine.wait_idle()
    # Nobody awaits during the nap: stored in the slot.
    assert call_back(url, "b").status_code == 200
    # The slot is full: refused.
    refused = call_back(url, "c")
    assert refused.status_code == 429
    assert refused.json()["error"]["status"] == "RESOURCE_EXHAUSTED"

    engine.advance(60)

    done = engine.get(execution_id)
    assert (done.state, done.result) == ("SUCCEEDED", ["a", "b"])
    # The execution ended: the endpoint is gone.
    assert call_back(url, "d").status_code == 404


def test_a_call_before_the_await_is_kept_for_it(
    engine: Engine, server: WorkflowsServer, call_back: CallBack
) -> None:
    execution_id, url = start(engine, NAP_FIRST)

    assert call_back(url, "early").status_code == 200
    engine.advance(5)
    assert call_back(url, "late").status_code == 200
    engine.advance(60)

    assert engine.get(execution_id).result == ["early", "late"]


def test_a_token_is_required(engine: Engine, server: WorkflowsServer, call_back: CallBack) -> None:
    execution_id, url = start(engine, TWO_AWAITS)

    anonymous = call_back(url, "x", token=None)

    assert anonymous.status_code == 401
    assert engine.list_callbacks(execution_id)[0].waiters


def test_only_identities_that_may_send_callbacks_call_back(
    store: Store, clock: VirtualClock, call_back: CallBack
) -> None:
    """The callback needs `workflows.callbacks.send` (Wait using callbacks), as IAM grants it."""
    sender = "projects/p/roles/callbackSender"
    access = Access.from_grants(
        [
            (sender, "serviceAccount:decide@p.iam.gserviceaccount.com"),
            ("roles/viewer", "user:ann@example.com"),
        ],
        {sender: ["workflows.callbacks.send"]},
    )
    access.issue("decide-token", "decide@p.iam.gserviceaccount.com")
    access.issue("ann-token", "ann@example.com")
    engine = Engine(store, clock, base_url=loopback_url())
    try:
        with WorkflowsServer(engine, access=access):
            _, url = start(engine, TWO_AWAITS)
            assert call_back(url, "x", token="someone-else").status_code == 401
            denied = call_back(url, "x", token="ann-token")
            assert denied.status_code == 403
            assert "workflows.callbacks.send" in denied.json()["error"]["message"]
            assert call_back(url, "x", token="decide-token").status_code == 200
    finally:
        engine.close()


def test_the_method_must_be_the_endpoints(
    engine: Engine, server: WorkflowsServer, call_back: CallBack
) -> None:
    _, url = start(engine, RETURN_REQUEST)  # a PUT endpoint

    assert call_back(url, "x", method="POST").status_code == 405


def test_unknown_callbacks_are_not_found(
    engine: Engine, server: WorkflowsServer, call_back: CallBack
) -> None:
    execution_id, url = start(engine, TWO_AWAITS)
    other = url.rsplit("/", 1)[0] + "/not-a-callback"

    assert call_back(other, "x").status_code == 404
    assert call_back(url.replace(execution_id, "not-an-execution"), "x").status_code == 404


def test_cancelled_executions_do_not_take_callbacks(
    engine: Engine, server: WorkflowsServer, call_back: CallBack
) -> None:
    execution_id, url = start(engine, TWO_AWAITS)
    engine.cancel(execution_id)

    assert call_back(url, "x").status_code == 404


def test_the_rest_callback_list(engine: Engine, server: WorkflowsServer, call_back: CallBack) -> None:
    execution_id, url = start(engine, TWO_AWAITS)
    workflow = f"{server.url}/v1/projects/demo-approvals/locations/us-central1/workflows/wf"
    listing = f"{workflow}/executions/{execution_id}/callbacks"

    [waiting] = requests.get(listing, timeout=10).json()["callbacks"]
    call_back(url, "a")
    engine.wait_idle()
    call_back(url, "b")
    [holding] = requests.get(listing, timeout=10).json()["callbacks"]

    assert waiting["method"] == "POST"
    assert waiting["name"].endswith(url.rsplit("/", 1)[1])
    assert (waiting["waiters"], waiting["availablePayloads"]) == ("1", [])
    assert holding["waiters"] == "0"
    assert len(holding["availablePayloads"]) == 1


CALLBACKS_LIST_URL = (
    "https://cloud.google.com/workflows/docs/reference/executions/rest/v1/"
    "projects.locations.workflows.executions.callbacks/list"
)

# Three endpoints made a second apart, then a wait on the first.
THREE_ENDPOINTS = """
main:
  steps:
    - first:
        call: events.create_callback_endpoint
        result: first
    - nap:
        call: sys.sleep
        args:
          seconds: 1
    - second:
        call: events.create_callback_endpoint
        result: second
    - nap_again:
        call: sys.sleep
        args:
          seconds: 1
    - third:
        call: events.create_callback_endpoint
        result: third
    - wait:
        call: events.await_callback
        args:
          callback: ${first}
          timeout: 3600
"""


def test_the_rest_callback_list_is_ordered_by_id_and_paged(
    engine: Engine, server: WorkflowsServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """callbacks.list (CALLBACKS_LIST_URL): "The returned callbacks are ordered by callback ID", and
    pageSize is the "Maximum number of callbacks to return per call"."""
    # Ids that fall as they are made, so that creation order is the reverse of id order.
    falling = (str(uuid.UUID(int=n)) for n in itertools.count(2**64, -1))
    monkeypatch.setattr(engine_module, "random_uuid", lambda: next(falling))
    engine.deploy("wf", THREE_ENDPOINTS)
    execution_id = engine.start("wf").id
    engine.advance(2)
    created = [c.id for c in engine.list_callbacks(execution_id)]
    listing = (
        f"{server.url}/v1/projects/demo-approvals/locations/us-central1/workflows/wf"
        f"/executions/{execution_id}/callbacks"
    )

    first = requests.get(f"{listing}?pageSize=2", timeout=10).json()
    rest = requests.get(f"{listing}?pageSize=2&pageToken={first['nextPageToken']}", timeout=10).json()

    listed = [c["name"].rsplit("/", 1)[1] for c in first["callbacks"] + rest["callbacks"]]
    assert len(first["callbacks"]) == 2 and "nextPageToken" not in rest
    assert listed == sorted(created) == created[::-1]


# Two parallel iterations await the same endpoint at once, for 100 s and 200 s; the bodies they
# got (or "timeout"), in arrival order.
TWO_WAITERS = """
main:
  steps:
    - init:
        assign:
          - got: []
    - create:
        call: events.create_callback_endpoint
        result: callback
    - wait_twice:
        parallel:
          shared: [got]
          for:
            value: i
            in: [1, 2]
            steps:
              - wait:
                  try:
                    steps:
                      - await:
                          call: events.await_callback
                          args:
                            callback: ${callback}
                            timeout: ${i * 100}
                          result: request
                      - keep:
                          assign:
                            - got: ${list.concat(got, request.http_request.body)}
                  except:
                    as: e
                    steps:
                      - expired:
                          assign:
                            - got: ${list.concat(got, e.tags[0])}
    - done:
        return: ${got}
"""


def waiters(server: WorkflowsServer, execution_id: str) -> str:
    """The `waiters` of the execution's one callback, as callbacks.list shows it."""
    listing = (
        f"{server.url}/v1/projects/demo-approvals/locations/us-central1/workflows/wf"
        f"/executions/{execution_id}/callbacks"
    )
    [callback] = requests.get(listing, timeout=10).json()["callbacks"]
    return callback["waiters"]


def test_two_steps_may_wait_on_one_endpoint(
    engine: Engine, server: WorkflowsServer, call_back: CallBack
) -> None:
    """A Callback of callbacks.list (CALLBACKS_LIST_URL) counts "waiters: Number of execution steps
    waiting on this callback": more than one step may wait, and each is answered by a request of
    its own."""
    execution_id, url = start(engine, TWO_WAITERS)

    counts = [waiters(server, execution_id)]
    assert call_back(url, "a").status_code == 200
    engine.wait_idle()
    counts.append(waiters(server, execution_id))
    assert call_back(url, "b").status_code == 200
    engine.wait_idle()

    assert counts == ["2", "1"]
    done = engine.get(execution_id)
    assert (done.state, sorted(done.result)) == ("SUCCEEDED", ["a", "b"])


def test_each_waiter_times_out_on_its_own(
    engine: Engine, server: WorkflowsServer, call_back: CallBack
) -> None:
    """events.await_callback: "TimeoutError In case of a timeout"; of two steps waiting on one
    endpoint, the one whose timeout (100 s) passes first times out alone: the other (200 s) still
    waits, and takes the next request."""
    execution_id, url = start(engine, TWO_WAITERS)

    engine.advance(150)
    left = waiters(server, execution_id)
    assert call_back(url, "late").status_code == 200
    engine.wait_idle()

    assert left == "1"
    assert engine.get(execution_id).result == ["TimeoutError", "late"]


def test_a_cancelled_execution_waits_on_nothing(engine: Engine, server: WorkflowsServer) -> None:
    """Cancelled while two steps wait: callbacks.list shows no waiter left ("Number of execution
    steps waiting on this callback"), and the timeouts that pass later write nothing more for
    it (it showed them waiting, and each timeout was journaled for the ended execution)."""
    execution_id, _ = start(engine, TWO_WAITERS)
    assert waiters(server, execution_id) == "2"
    journaled = len(engine.store.journal(execution_id))

    engine.cancel(execution_id)
    engine.advance(300)
    engine.wait_idle()

    assert waiters(server, execution_id) == "0"
    assert len(engine.store.journal(execution_id)) == journaled
    assert engine.get(execution_id).state == "CANCELLED"


def test_a_json_body_too_deep_to_walk_arrives_as_text(
    engine: Engine, server: WorkflowsServer, call_back: CallBack
) -> None:
    """A body is decoded when it is JSON the engine can hold; one nested thousands deep stays
    its text, like any body that is not JSON (the server's thread hit Python's RecursionError
    and dropped the connection before)."""
    execution_id, url = start(engine, RETURN_REQUEST)
    deep = "[" * 5000 + "]" * 5000

    answer = requests.put(
        url, data=deep, headers={"Authorization": "Bearer t", "Content-Type": "application/json"}, timeout=10
    )
    engine.wait_idle()

    assert answer.status_code == 200
    assert engine.get(execution_id).result["http_request"]["body"] == deep


def test_concurrent_calls_fill_the_one_slot_once(
    engine: Engine, server: WorkflowsServer, call_back: CallBack
) -> None:
    """Of calls racing to an endpoint nobody awaits yet, one is kept and the others get 429
    ("Wait using callbacks": an endpoint holds one pending request)."""
    _, url = start(engine, NAP_FIRST)
    with ThreadPoolExecutor(8) as pool:
        statuses = sorted(pool.map(lambda n: call_back(url, {"n": n}).status_code, range(8)))

    assert statuses == [200] + [429] * 7
