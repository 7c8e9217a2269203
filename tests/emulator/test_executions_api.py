"""The Executions API over REST and over gRPC with the real google-cloud-workflows client.

Shapes from Google's "REST Resource: projects.locations.workflows.executions":
argument and result are JSON strings, error {payload, context} is "only present
if the execution's state is FAILED or CANCELLED", list defaults to the BASIC view.
"""

from __future__ import annotations

import http.client
import json
import socket
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
import requests
from google.api_core import exceptions
from google.cloud.workflows.executions_v1 import Execution, ExecutionsClient
from google.cloud.workflows.executions_v1.services.executions.transports import ExecutionsGrpcTransport

from approvals.engine.api.grpc_api import ExecutionsService
from approvals.engine.api.server import WorkflowsServer
from approvals.engine.runtime.engine import Engine

PARENT = "projects/demo-approvals/locations/us-central1/workflows/greeter"
GREETER = """
main:
  params: [args]
  steps:
    - check:
        switch:
          - condition: ${args.name == ""}
            raise:
              tags: [ValueError]
              message: no name
    - nap:
        call: sys.sleep
        args:
          seconds: ${args.nap}
    - greet:
        return: ${"Hello " + args.name}
"""


@pytest.fixture
def deployed(engine: Engine) -> Engine:
    engine.deploy("greeter", GREETER)
    return engine


@pytest.fixture
def client(deployed: Engine) -> Iterator[ExecutionsClient]:
    with ExecutionsService(deployed) as service:
        channel = grpc.insecure_channel(service.host)
        yield ExecutionsClient(transport=ExecutionsGrpcTransport(channel=channel))
        channel.close()


def rest(server: WorkflowsServer, method: str, path: str, body: object = None) -> requests.Response:
    return requests.request(method, f"{server.url}/v1/{path}", json=body, timeout=10)


def test_rest_create_get_list(deployed: Engine, server: WorkflowsServer) -> None:
    created = rest(
        server, "POST", f"{PARENT}/executions", {"argument": json.dumps({"name": "Ada", "nap": 0})}
    )
    assert created.status_code == 200, created.text
    execution = created.json()
    assert execution["name"].startswith(f"{PARENT}/executions/")
    assert execution["state"] == "ACTIVE"
    assert json.loads(execution["argument"]) == {"name": "Ada", "nap": 0}

    deployed.wait_idle()
    got = rest(server, "GET", execution["name"]).json()
    listed = rest(server, "GET", f"{PARENT}/executions").json()["executions"]

    assert got["state"] == "SUCCEEDED"
    assert json.loads(got["result"]) == "Hello Ada"
    assert got["startTime"].endswith("Z") and got["endTime"].endswith("Z")
    assert got["workflowRevisionId"] == deployed.workflow("greeter").revision
    assert [e["name"] for e in listed] == [execution["name"]]
    assert "result" not in listed[0]  # BASIC view
    full = rest(server, "GET", f"{PARENT}/executions?view=FULL").json()["executions"]
    assert json.loads(full[0]["result"]) == "Hello Ada"


def test_rest_failed_execution_has_an_error_payload(deployed: Engine, server: WorkflowsServer) -> None:
    name = rest(server, "POST", f"{PARENT}/executions", {"argument": '{"name": "", "nap": 0}'}).json()["name"]
    deployed.wait_idle()

    failed = rest(server, "GET", name).json()

    assert failed["state"] == "FAILED"
    assert "result" not in failed
    assert json.loads(failed["error"]["payload"]) == {"tags": ["ValueError"], "message": "no name"}


def test_rest_cancel(deployed: Engine, server: WorkflowsServer) -> None:
    name = rest(server, "POST", f"{PARENT}/executions", {"argument": '{"name": "Bo", "nap": 60}'}).json()[
        "name"
    ]
    deployed.wait_idle()

    cancelled = rest(server, "POST", f"{name}:cancel")
    again = rest(server, "POST", f"{name}:cancel")

    assert cancelled.status_code == 200
    assert cancelled.json()["state"] == "CANCELLED"
    assert "error" in cancelled.json()
    assert again.status_code == 400
    assert again.json()["error"]["status"] == "FAILED_PRECONDITION"


def test_rest_errors(deployed: Engine, server: WorkflowsServer) -> None:
    bad_argument = rest(server, "POST", f"{PARENT}/executions", {"argument": "{not json"})
    unknown_workflow = rest(server, "POST", f"{PARENT}x/executions", {})
    unknown_execution = rest(server, "GET", f"{PARENT}/executions/nope")
    other_project = rest(server, "GET", PARENT.replace("demo-approvals", "elsewhere") + "/executions")

    assert bad_argument.status_code == 400
    assert bad_argument.json()["error"]["status"] == "INVALID_ARGUMENT"
    assert unknown_workflow.status_code == 404
    assert unknown_execution.status_code == 404
    assert other_project.status_code == 404


# A hostile or careless client's create bodies. Google's REST API reads the body as an
# Execution ("Method: projects.locations.workflows.executions.create",
# https://cloud.google.com/workflows/docs/reference/executions/rest/v1/projects.locations.workflows.executions/create)
# whose argument is "represented as a JSON string"; its JSON reader refuses an unknown field
# or a value of the wrong type with INVALID_ARGUMENT. Nesting past 100 levels and NaN are
# refused here as not JSON the engine can hold (Google documents no depth).
@pytest.mark.parametrize(
    ("body", "words"),
    [
        ([1, 2], "Expected an object"),
        ({"argument": {"name": "Ada"}}, "Invalid value at 'execution.argument' (TYPE_STRING)"),
        ({"argument": 5}, "Invalid value at 'execution.argument' (TYPE_STRING)"),
        ({"argument": "{}", "arguments": "{}"}, "Unknown name 'arguments'"),
        ({"argument": "[" * 5000 + "]" * 5000}, "nests more than 100 levels deep"),
        ({"argument": '{"name": NaN}'}, "NaN is not valid JSON"),
        ({"argument": '{"name": Infinity}'}, "Infinity is not valid JSON"),
    ],
)
def test_rest_create_refuses_a_malformed_execution(
    deployed: Engine, server: WorkflowsServer, body: object, words: str
) -> None:
    refused = rest(server, "POST", f"{PARENT}/executions", body)

    assert refused.status_code == 400, refused.text
    assert refused.json()["error"]["status"] == "INVALID_ARGUMENT"
    assert words in refused.json()["error"]["message"]
    assert deployed.list("greeter") == []


def test_rest_create_takes_snake_case_and_output_fields(deployed: Engine, server: WorkflowsServer) -> None:
    """The proto JSON mapping takes a field's own name as well as its camelCase one."""
    body = {"argument": '{"name": "Ada", "nap": 0}', "call_log_level": "LOG_NONE", "labels": {}}

    created = rest(server, "POST", f"{PARENT}/executions", body)

    assert created.status_code == 200, created.text


def test_rest_a_body_too_deep_to_read_is_invalid(deployed: Engine, server: WorkflowsServer) -> None:
    deep = b'{"labels": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"

    refused = requests.post(f"{server.url}/v1/{PARENT}/executions", data=deep, timeout=10)

    assert refused.status_code == 400
    assert refused.json()["error"]["status"] == "INVALID_ARGUMENT"


def test_rest_an_unknown_view_is_invalid(deployed: Engine, server: WorkflowsServer) -> None:
    """ExecutionView is BASIC or FULL (or unspecified); any other value is an invalid argument."""
    refused = rest(server, "GET", f"{PARENT}/executions?view=EVERYTHING")
    unspecified = rest(server, "GET", f"{PARENT}/executions?view=EXECUTION_VIEW_UNSPECIFIED")

    assert refused.status_code == 400
    assert "'EVERYTHING'" in refused.json()["error"]["message"]
    assert unspecified.status_code == 200


@pytest.fixture
def many(engine: Engine) -> list[str]:
    """101 executions of `quick`, newest first: one more than a default page."""
    engine.deploy("quick", "main:\n  steps:\n    - done:\n        return: 1\n")
    names = [engine.start("quick").id for _ in range(101)]
    engine.wait_idle()
    return names[::-1]


QUICK = "projects/demo-approvals/locations/us-central1/workflows/quick/executions"


@pytest.mark.parametrize("query", ["pageSize=-1", "pageSize=ten", "pageToken=nonsense", "pageToken=999"])
def test_rest_list_refuses_a_bad_page_size_or_token(
    many: list[str], server: WorkflowsServer, query: str
) -> None:
    refused = rest(server, "GET", f"{QUICK}?{query}")

    assert refused.status_code == 400
    assert refused.json()["error"]["status"] == "INVALID_ARGUMENT"


def raw_request(server: WorkflowsServer, head: str, body: bytes = b"") -> tuple[int, dict[str, Any]]:
    """Send `head` (request line and headers) and `body` as they are; the status and JSON answer."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(head.replace("\n", "\r\n").encode("latin-1") + b"\r\n" + body)
        response = http.client.HTTPResponse(sock)
        response.begin()
        return response.status, json.loads(response.read())


@pytest.mark.parametrize(
    ("length", "status"),
    [
        ("abc", 400),
        ("-5", 400),
        ("1e3", 400),
        ("\xb2", 400),  # a digit to str.isdigit(), not to int()
        (str(100 * 1024**3), 413),
        (str(10 * 1024**2 + 1), 413),
    ],
)
def test_rest_a_content_length_not_to_read_is_refused(
    deployed: Engine, server: WorkflowsServer, length: str, status: int
) -> None:
    """A body is read only when its Content-Length is a number within 10 MB, more than an
    execution can hold (512 KB). The server dropped the connection with a ValueError, or
    allocated the length it was given, before."""
    head = f"POST /v1/{PARENT}/executions HTTP/1.1\nHost: localhost\nContent-Length: {length}\n"

    code, answer = raw_request(server, head, b"{}")

    assert code == status
    assert answer["error"]["code"] == status
    assert deployed.list("greeter") == []


def test_rest_a_chunked_body_is_read(deployed: Engine, server: WorkflowsServer) -> None:
    """Chunked transfer coding was ignored: the create saw no argument, and the chunks were read
    as the next request."""
    body = json.dumps({"argument": json.dumps({"name": "Ada", "nap": 0})}).encode()
    chunks = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
    head = f"POST /v1/{PARENT}/executions HTTP/1.1\nHost: localhost\nTransfer-Encoding: chunked\n"

    code, answer = raw_request(server, head, chunks)

    assert code == 200, answer
    assert json.loads(answer["argument"]) == {"name": "Ada", "nap": 0}


def test_grpc_client_create_get_list_cancel(deployed: Engine, client: ExecutionsClient) -> None:
    quick = client.create_execution(
        parent=PARENT, execution=Execution(argument=json.dumps({"name": "Ada", "nap": 0}))
    )
    slow = client.create_execution(
        parent=PARENT, execution=Execution(argument=json.dumps({"name": "Bo", "nap": 60}))
    )
    assert quick.name.startswith(f"{PARENT}/executions/")
    assert quick.state == Execution.State.ACTIVE
    deployed.wait_idle()

    got = client.get_execution(name=quick.name)
    listed = list(client.list_executions(parent=PARENT))
    cancelled = client.cancel_execution(name=slow.name)

    assert got.state == Execution.State.SUCCEEDED
    assert json.loads(got.result) == "Hello Ada"
    assert got.workflow_revision_id == deployed.workflow("greeter").revision
    assert got.end_time is not None
    assert [e.name for e in listed] == [slow.name, quick.name]
    assert cancelled.state == Execution.State.CANCELLED
    assert client.get_execution(name=slow.name).state == Execution.State.CANCELLED


def test_grpc_errors_are_status_codes(deployed: Engine, client: ExecutionsClient) -> None:
    with pytest.raises(exceptions.NotFound):
        client.get_execution(name=f"{PARENT}/executions/nope")
    with pytest.raises(exceptions.NotFound):
        client.create_execution(parent=f"{PARENT}x", execution=Execution(argument="{}"))
    with pytest.raises(exceptions.InvalidArgument):
        client.create_execution(parent=PARENT, execution=Execution(argument="{not json"))


LIST_URL = "https://cloud.google.com/workflows/docs/reference/executions/rest/v1/projects.locations.workflows.executions/list"


def start_greetings(engine: Engine, count: int) -> list[str]:
    """Start `count` quick executions of greeter; their ids, newest first (the list's order)."""
    ids = [engine.start("greeter", {"name": f"n{i}", "nap": 0}).id for i in range(count)]
    engine.wait_idle()
    return [f"{PARENT}/executions/{i}" for i in reversed(ids)]


def test_grpc_list_pages_by_page_size(deployed: Engine, client: ExecutionsClient) -> None:
    """executions.list (LIST_URL): "pageSize: Maximum number of executions to return per call"
    and a "page token, received from a previous executions.list call. Provide this to retrieve
    the subsequent page"."""
    names = start_greetings(deployed, 3)

    pages = list(client.list_executions(request={"parent": PARENT, "page_size": 2}).pages)

    assert [len(page.executions) for page in pages] == [2, 1]
    assert [e.name for page in pages for e in page.executions] == names
    assert pages[0].next_page_token and not pages[1].next_page_token


def test_rest_list_pages_default_to_100_and_full_is_capped_at_100(
    deployed: Engine, server: WorkflowsServer
) -> None:
    """executions.list (LIST_URL): "The default value used if the field is not specified is 100,
    regardless of the selected view", and the maximum is "1000 for BASIC and 100 for FULL. ...
    Values greater than the max value will be coerced down to it"."""
    names = start_greetings(deployed, 101)

    default = rest(server, "GET", f"{PARENT}/executions").json()
    full = rest(server, "GET", f"{PARENT}/executions?view=FULL&pageSize=1000").json()
    basic = rest(server, "GET", f"{PARENT}/executions?pageSize=1000").json()
    rest_of_it = rest(server, "GET", f"{PARENT}/executions?pageToken={default['nextPageToken']}").json()

    assert [e["name"] for e in default["executions"]] == names[:100]
    assert len(full["executions"]) == 100 and full["nextPageToken"]
    assert len(basic["executions"]) == 101 and "nextPageToken" not in basic
    assert [e["name"] for e in rest_of_it["executions"]] == names[100:]
    assert "nextPageToken" not in rest_of_it


def test_rest_list_refuses_a_page_token_it_did_not_hand_out(
    deployed: Engine, server: WorkflowsServer
) -> None:
    """A pageToken is one "received from a previous executions.list call" (LIST_URL)."""
    start_greetings(deployed, 1)

    answer = rest(server, "GET", f"{PARENT}/executions?pageToken=not-a-token")

    assert answer.status_code == 400
    assert answer.json()["error"]["status"] == "INVALID_ARGUMENT"


EXECUTION_URL = "https://cloud.google.com/workflows/docs/reference/executions/rest/v1/projects.locations.workflows.executions"


def test_grpc_labels_and_call_log_level_are_the_executions(
    deployed: Engine, client: ExecutionsClient
) -> None:
    """The Execution resource (EXECUTION_URL): "labels: Labels associated with this execution" and
    "callLogLevel: The call logging level associated to this execution"."""
    created = client.create_execution(
        parent=PARENT,
        execution=Execution(
            argument='{"name": "Ada", "nap": 0}',
            labels={"team": "approvals", "run": "n-1"},
            call_log_level=Execution.CallLogLevel.LOG_ERRORS_ONLY,
        ),
    )
    deployed.wait_idle()

    got = client.get_execution(name=created.name)

    for execution in (created, got):
        assert dict(execution.labels) == {"team": "approvals", "run": "n-1"}
        assert execution.call_log_level == Execution.CallLogLevel.LOG_ERRORS_ONLY


def test_rest_labels_and_call_log_level_are_the_executions(deployed: Engine, server: WorkflowsServer) -> None:
    """The Execution resource (EXECUTION_URL) carries the "labels" and "callLogLevel" it was created with."""
    name = rest(
        server,
        "POST",
        f"{PARENT}/executions",
        {"argument": '{"name": "Bo", "nap": 0}', "labels": {"team": "ops"}, "callLogLevel": "LOG_ALL_CALLS"},
    ).json()["name"]

    got = rest(server, "GET", name).json()

    assert got["labels"] == {"team": "ops"}
    assert got["callLogLevel"] == "LOG_ALL_CALLS"


def test_labels_that_break_the_documented_rules_are_refused(
    deployed: Engine, server: WorkflowsServer
) -> None:
    """labels (EXECUTION_URL): "Labels can contain at most 64 entries. Keys and values can be no longer
    than 63 characters and can only contain lowercase letters, numeric characters, underscores, and
    dashes. Label keys must start with a letter. International characters are allowed"."""
    refused = [
        {f"k{i}": "v" for i in range(65)},
        {"Team": "ops"},
        {"team": "Ops"},
        {"1team": "ops"},
        {"k" * 64: "v"},
        {"team": "v" * 64},
        {"team": "a.b"},
    ]
    allowed = {"équipe": "été_1-x", "k" * 63: "v" * 63, "t": ""}

    answers = [rest(server, "POST", f"{PARENT}/executions", {"labels": labels}) for labels in refused]
    accepted = rest(
        server, "POST", f"{PARENT}/executions", {"argument": '{"name": "x", "nap": 0}', "labels": allowed}
    )

    assert [a.status_code for a in answers] == [400] * len(refused)
    assert {a.json()["error"]["status"] for a in answers} == {"INVALID_ARGUMENT"}
    assert accepted.status_code == 200, accepted.text


# A subworkflow that naps, called from main.
NAPPER = """
main:
  steps:
    - call_napper:
        call: napper
        result: slept
    - done:
        return: ${slept}
napper:
  steps:
    - doze:
        call: sys.sleep
        args:
          seconds: 60
    - wake:
        return: "rested"
"""


def current_steps(execution: Execution) -> list[tuple[str, str]]:
    return [(step.routine, step.step) for step in execution.status.current_steps]


def test_grpc_status_names_the_current_step(deployed: Engine, client: ExecutionsClient) -> None:
    """Execution.status (EXECUTION_URL): "currentSteps: A list of currently executing or last executed
    step names for the workflow execution currently running. If the workflow has succeeded or failed,
    this is the last attempted or executed step"."""
    napping, cancelled = (
        client.create_execution(parent=PARENT, execution=Execution(argument='{"name": "Ada", "nap": 60}'))
        for _ in range(2)
    )
    failing = client.create_execution(parent=PARENT, execution=Execution(argument='{"name": "", "nap": 0}'))
    deployed.wait_idle()

    while_napping = client.get_execution(name=napping.name)
    failed = client.get_execution(name=failing.name)
    stopped = client.cancel_execution(name=cancelled.name)
    deployed.advance(60)
    succeeded = client.get_execution(name=napping.name)

    assert current_steps(while_napping) == [("main", "nap")]
    assert failed.state == Execution.State.FAILED and current_steps(failed) == [("main", "check")]
    assert stopped.state == Execution.State.CANCELLED and current_steps(stopped) == [("main", "nap")]
    assert succeeded.state == Execution.State.SUCCEEDED and current_steps(succeeded) == [("main", "greet")]


def test_rest_status_in_a_subworkflow_names_only_that_step(deployed: Engine, server: WorkflowsServer) -> None:
    """Execution.status (EXECUTION_URL): "Presently, if the current step is inside a subworkflow, the
    list only includes that step"; the BASIC view of the list leaves status out."""
    deployed.deploy("napper", NAPPER)
    parent = PARENT.replace("greeter", "napper")
    name = rest(server, "POST", f"{parent}/executions", {}).json()["name"]
    deployed.wait_idle()

    got = rest(server, "GET", name).json()
    [listed] = rest(server, "GET", f"{parent}/executions").json()["executions"]

    assert got["status"] == {"currentSteps": [{"routine": "napper", "step": "doze"}]}
    assert "status" not in listed


def three_executions(engine: Engine) -> list[str]:
    """Names of a SUCCEEDED (at 00:00:00), a FAILED (00:00:10) and an ACTIVE (00:00:20) execution."""
    names = []
    for argument in ({"name": "Ada", "nap": 0}, {"name": "", "nap": 0}, {"name": "Bo", "nap": 60}):
        names.append(f"{PARENT}/executions/{engine.start('greeter', argument).id}")
        engine.advance(10)
    return names


def test_grpc_list_filters_as_asked(deployed: Engine, client: ExecutionsClient) -> None:
    """executions.list (LIST_URL): filter is "Filters applied to the [Executions.ListExecutions] results",
    with the example "state="SUCCEEDED" or startTime>"2023-08-01" AND state="FAILED"" (AIP-160: OR binds
    tighter than AND)."""
    succeeded, failed, active = three_executions(deployed)

    def listed(filter_text: str) -> list[str]:
        return [e.name for e in client.list_executions(request={"parent": PARENT, "filter": filter_text})]

    assert listed('state="SUCCEEDED"') == [succeeded]
    assert listed('startTime>"2023-08-01" AND state="FAILED"') == [failed]
    assert listed('state="FAILED" OR state="SUCCEEDED"') == [failed, succeeded]
    assert listed('startTime>="2024-01-01T00:00:10Z" AND state!="FAILED"') == [active]


def test_rest_list_orders_as_asked(deployed: Engine, server: WorkflowsServer) -> None:
    """executions.list (LIST_URL): orderBy is a "Comma-separated list of fields that specify the ordering
    applied to the [Executions.ListExecutions] results" (AIP-132: a field, then `desc` to reverse it)."""
    names = three_executions(deployed)

    ascending = rest(server, "GET", f"{PARENT}/executions?orderBy=startTime").json()["executions"]
    descending = rest(server, "GET", f"{PARENT}/executions?orderBy=startTime%20desc").json()["executions"]

    assert [e["name"] for e in ascending] == names
    assert [e["name"] for e in descending] == names[::-1]


def test_rest_list_refuses_a_filter_or_order_it_cannot_apply(
    deployed: Engine, server: WorkflowsServer
) -> None:
    """A filter the local engine does not apply (stepName, duration, ...) is refused, not ignored:
    ignored, the list would hold executions Google's filtered list (LIST_URL) would not."""
    three_executions(deployed)

    answers = [
        rest(server, "GET", f"{PARENT}/executions?filter=stepName%3D%22greet%22"),
        rest(server, "GET", f"{PARENT}/executions?orderBy=duration"),
    ]

    assert [a.status_code for a in answers] == [400, 400]
    assert {a.json()["error"]["status"] for a in answers} == {"INVALID_ARGUMENT"}


def test_rest_an_execution_has_a_create_time(deployed: Engine, server: WorkflowsServer) -> None:
    """The Execution resource (EXECUTION_URL): "createTime: Output only. Marks the creation of the
    execution"; the engine has no backlog, so an execution starts when it is created."""
    name = rest(server, "POST", f"{PARENT}/executions", {"argument": '{"name": "Ada", "nap": 0}'}).json()[
        "name"
    ]
    deployed.wait_idle()

    got = rest(server, "GET", name).json()

    assert got["createTime"] == got["startTime"] == "2024-01-01T00:00:00.000000Z"


def test_grpc_an_argument_too_deep_is_invalid(deployed: Engine, client: ExecutionsClient) -> None:
    with pytest.raises(exceptions.InvalidArgument, match="nests more than 100 levels deep"):
        client.create_execution(parent=PARENT, execution=Execution(argument="[" * 5000 + "]" * 5000))
