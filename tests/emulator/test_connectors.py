"""Connectors against the real Firestore and Pub/Sub emulators and the local translation server."""

from __future__ import annotations

import base64
import json
import re
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from approvals.emulator.firestore import FirestoreEmulator
from approvals.emulator.pubsub import PubSubEmulator
from approvals.emulator.translation import TranslationServer
from approvals.engine.api.local_server import free_port
from approvals.engine.runtime.connectors import (
    CONNECTORS,
    SUPPORTED,
    ConnectorSettings,
    call_connector,
    check_supported,
)
from approvals.engine.runtime.errors import WorkflowError
from approvals.engine.runtime.tokens import StaticTokens
from tests.support import PROJECT
from tests.support.servers import RecordingServer, Reply

TOKENS = StaticTokens(access="access-1", identity="identity-1")
DATABASE = "connectors"
DOCUMENTS = f"projects/{PROJECT}/databases/{DATABASE}/documents"
DOCS = "googleapis.firestore.v1.projects.databases.documents."
V2 = "googleapis.translate.v2.translations.translate"
V3 = "googleapis.translate.v3.projects.locations.translateText"
PUBSUB = "googleapis.pubsub.v1.projects."
PUBLISH = PUBSUB + "topics.publish"
LANGUAGES = "googleapis.translate.v2.languages.list"


@pytest.fixture
def firestore(firestore_emulator: FirestoreEmulator) -> ConnectorSettings:
    firestore_emulator.reset(DATABASE)
    return ConnectorSettings(firestore_host=firestore_emulator.host, project=PROJECT)


def docs(method: str, settings: ConnectorSettings, **args: Any) -> Any:
    return call_connector(DOCS + method, args, settings, TOKENS)


def create(settings: ConnectorSettings, doc_id: str, **fields: str) -> dict[str, Any]:
    body = {"fields": {key: {"stringValue": value} for key, value in fields.items()}}
    return docs(
        "createDocument", settings, parent=DOCUMENTS, collectionId="requests", documentId=doc_id, body=body
    )


def strings(document: dict[str, Any]) -> dict[str, str]:
    return {key: value["stringValue"] for key, value in document.get("fields", {}).items()}


def test_create_then_get(firestore: ConnectorSettings) -> None:
    created = create(firestore, "r1", state="pending")
    assert created["name"] == f"{DOCUMENTS}/requests/r1"
    assert strings(docs("get", firestore, name=f"{DOCUMENTS}/requests/r1")) == {"state": "pending"}


def test_create_without_document_id_generates_one(firestore: ConnectorSettings) -> None:
    body = {"fields": {"event": {"stringValue": "created"}}}
    created = docs("createDocument", firestore, parent=DOCUMENTS, collectionId="audit", body=body)
    assert created["name"].startswith(f"{DOCUMENTS}/audit/")
    assert len(created["name"].rsplit("/", 1)[1]) >= 20


def test_create_on_an_existing_id_is_http_error_409(firestore: ConnectorSettings) -> None:
    """Connector reference: "HttpError If the response status is >= 400"; Firestore answers
    ALREADY_EXISTS (409) and the templates rely on that code."""
    create(firestore, "r1", state="pending")
    with pytest.raises(WorkflowError) as caught:
        create(firestore, "r1", state="again")
    error = caught.value.value
    assert (error["tags"], error["code"]) == (["HttpError"], 409)
    assert error["body"]["error"]["status"] == "ALREADY_EXISTS"


def test_patch_with_update_mask_leaves_other_fields(firestore: ConnectorSettings) -> None:
    """patch: "If the document exists on the server and has fields not referenced in the mask, they are
    left unchanged." Both argument spellings work: `updateMask: {fieldPaths}` (the repository's
    templates) and `updateMask.fieldPaths` (the connector reference)."""
    create(firestore, "r1", state="pending", owner="ana")
    name = f"{DOCUMENTS}/requests/r1"
    body = {"fields": {"state": {"stringValue": "approved"}, "owner": {"stringValue": "ignored"}}}
    docs("patch", firestore, name=name, updateMask={"fieldPaths": ["state"]}, body=body)
    assert strings(docs("get", firestore, name=name)) == {"state": "approved", "owner": "ana"}
    body = {"fields": {"note": {"stringValue": "ok"}}}
    docs("patch", firestore, name=name, **{"updateMask.fieldPaths": ["note"]}, body=body)
    assert strings(docs("get", firestore, name=name)) == {"state": "approved", "owner": "ana", "note": "ok"}


def test_patch_precondition_and_read_mask(firestore: ConnectorSettings) -> None:
    name = f"{DOCUMENTS}/requests/missing"
    body = {"fields": {"a": {"stringValue": "1"}, "b": {"stringValue": "2"}}}
    with pytest.raises(WorkflowError) as caught:
        docs("patch", firestore, name=name, **{"currentDocument.exists": True}, body=body)
    assert caught.value.value["code"] == 404
    result = docs("patch", firestore, name=name, **{"mask.fieldPaths": "a"}, body=body)
    assert strings(result) == {"a": "1"}


def test_delete_then_get_is_404(firestore: ConnectorSettings) -> None:
    create(firestore, "r1", state="pending")
    name = f"{DOCUMENTS}/requests/r1"
    assert docs("delete", firestore, name=name) == {}
    with pytest.raises(WorkflowError) as caught:
        docs("get", firestore, name=name)
    assert caught.value.value["code"] == 404


def test_run_query_and_list(firestore: ConnectorSettings) -> None:
    create(firestore, "r1", state="pending")
    create(firestore, "r2", state="approved")
    query = {
        "structuredQuery": {
            "from": [{"collectionId": "requests"}],
            "where": {
                "fieldFilter": {
                    "field": {"fieldPath": "state"},
                    "op": "EQUAL",
                    "value": {"stringValue": "approved"},
                }
            },
        }
    }
    rows = docs("runQuery", firestore, parent=DOCUMENTS, body=query)
    assert [row["document"]["name"] for row in rows if "document" in row] == [f"{DOCUMENTS}/requests/r2"]
    listed = docs("list", firestore, parent=DOCUMENTS, collectionId="requests", pageSize=10)
    assert sorted(d["name"].rsplit("/", 1)[1] for d in listed["documents"]) == ["r1", "r2"]


def test_commit_in_a_transaction(firestore: ConnectorSettings) -> None:
    database = f"projects/{PROJECT}/databases/{DATABASE}"
    transaction = docs("beginTransaction", firestore, database=database, body={})["transaction"]
    writes = [
        {"update": {"name": f"{DOCUMENTS}/requests/{doc_id}", "fields": {"state": {"stringValue": "new"}}}}
        for doc_id in ("c1", "c2")
    ]
    result = docs("commit", firestore, database=database, body={"writes": writes, "transaction": transaction})
    assert len(result["writeResults"]) == 2
    got = docs(
        "batchGet", firestore, database=database, body={"documents": [w["update"]["name"] for w in writes]}
    )
    assert [strings(row["found"]) for row in got] == [{"state": "new"}] * 2


def test_firestore_without_emulator_says_so() -> None:
    with pytest.raises(WorkflowError) as caught:
        docs("get", ConnectorSettings(), name=f"{DOCUMENTS}/requests/r1")
    assert "FIRESTORE_EMULATOR_HOST" in caught.value.value["message"]


def test_refused_connection_is_connection_error() -> None:
    """Connector reference: "ConnectionError In case of a network problem (such as DNS failure or
    refused connection)." """
    settings = ConnectorSettings(firestore_host=f"127.0.0.1:{free_port()}")
    with pytest.raises(WorkflowError) as caught:
        docs("get", settings, name=f"{DOCUMENTS}/requests/r1")
    assert caught.value.tags == ["ConnectionError"]


def test_missing_path_argument_is_refused(firestore: ConnectorSettings) -> None:
    with pytest.raises(WorkflowError) as caught:
        docs("get", firestore)
    assert caught.value.tags == ["TypeError"]
    assert "name" in caught.value.value["message"]


def test_translate_v2_with_query_args_like_the_template(translator: TranslationServer) -> None:
    """The repository's translation template passes `query: {q, source, target, format}` and reads
    `data.translations[0].translatedText`."""
    settings = ConnectorSettings(translate_url=translator.url)
    args = {"query": {"q": "Hello", "source": "en", "target": "fr", "format": "text"}}
    result = call_connector(V2, args, settings, TOKENS)
    assert result == {"data": {"translations": [{"translatedText": "[local translation en→fr] Hello"}]}}


def test_translate_v3(translator: TranslationServer) -> None:
    settings = ConnectorSettings(translate_url=translator.url)
    body = {"contents": ["Hi", "Bye"], "targetLanguageCode": "de", "mimeType": "text/plain"}
    result = call_connector(
        V3, {"parent": f"projects/{PROJECT}/locations/global", "body": body}, settings, TOKENS
    )
    assert [t["translatedText"] for t in result["translations"]] == [
        "[local translation und→de] Hi",
        "[local translation und→de] Bye",
    ]


def test_translate_requests_carry_an_access_token_and_real_paths() -> None:
    with RecordingServer() as server:
        settings = ConnectorSettings(translate_url=server.url)
        call_connector(V2, {"q": "x", "target": "fr"}, settings, TOKENS)
        server.script(Reply(400, {"error": {"code": 400, "message": "bad", "status": "INVALID_ARGUMENT"}}))
        with pytest.raises(WorkflowError) as caught:
            call_connector(V3, {"parent": "projects/p/locations/global", "body": {}}, settings, TOKENS)
        calls = server.calls
    assert [(c.method, c.path) for c in calls] == [
        ("POST", "/language/translate/v2"),
        ("POST", "/v3/projects/p/locations/global:translateText"),
    ]
    assert calls[0].json() == {"q": "x", "target": "fr"}
    assert {c.headers["Authorization"] for c in calls} == {"Bearer access-1"}
    assert caught.value.value["code"] == 400


def test_translate_v2_needs_target(translator: TranslationServer) -> None:
    settings = ConnectorSettings(translate_url=translator.url)
    with pytest.raises(WorkflowError) as caught:
        call_connector(V2, {"query": {"q": "Hello"}}, settings, TOKENS)
    assert caught.value.tags == ["TypeError"]


def _rest(method: str, url: str, body: Any) -> Any:
    data = json.dumps(body).encode()
    request = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read() or b"null")


def test_pubsub_publish(pubsub_emulator: PubSubEmulator) -> None:
    topic = f"projects/{PROJECT}/topics/approvals-events"
    subscription = f"projects/{PROJECT}/subscriptions/connector-publish-test"
    _rest("PUT", f"{pubsub_emulator.url}/v1/{topic}", {})
    _rest("PUT", f"{pubsub_emulator.url}/v1/{subscription}", {"topic": topic})
    settings = ConnectorSettings(pubsub_host=pubsub_emulator.host, project=PROJECT)
    message = {"data": base64.b64encode(b"approved").decode(), "attributes": {"request": "r1"}}
    result = call_connector(PUBLISH, {"topic": topic, "body": {"messages": [message]}}, settings, TOKENS)
    assert len(result["messageIds"]) == 1
    pulled = _rest("POST", f"{pubsub_emulator.url}/v1/{subscription}:pull", {"maxMessages": 10})
    received = pulled["receivedMessages"][0]["message"]
    assert (base64.b64decode(received["data"]), received["attributes"]) == (b"approved", {"request": "r1"})


def test_pubsub_unknown_topic_is_http_error_404(pubsub_emulator: PubSubEmulator) -> None:
    settings = ConnectorSettings(pubsub_host=pubsub_emulator.host)
    args = {"topic": f"projects/{PROJECT}/topics/nope-topic", "body": {"messages": [{"data": "eA=="}]}}
    with pytest.raises(WorkflowError) as caught:
        call_connector(PUBLISH, args, settings, TOKENS)
    assert caught.value.value["code"] == 404


def test_pubsub_without_emulator_says_so() -> None:
    with pytest.raises(WorkflowError) as caught:
        call_connector(PUBLISH, {"topic": "projects/p/topics/t", "body": {}}, ConnectorSettings(), TOKENS)
    assert "PUBSUB_EMULATOR_HOST" in caught.value.value["message"]


def pubsub(method: str, settings: ConnectorSettings, **args: Any) -> Any:
    return call_connector(PUBSUB + method, args, settings, TOKENS)


def test_pubsub_topic_and_subscription_lifecycle(pubsub_emulator: PubSubEmulator) -> None:
    """Connector reference (pubsub/Overview): topics.create `name`+`body`, get/delete `topic`,
    subscriptions.create `name`+`body`, pull/acknowledge/delete `subscription`; results are the
    REST API's Topic, Subscription, PullResponse and empty responses."""
    settings = ConnectorSettings(pubsub_host=pubsub_emulator.host, project=PROJECT)
    topic = f"projects/{PROJECT}/topics/connector-lifecycle"
    subscription = f"projects/{PROJECT}/subscriptions/connector-lifecycle"
    assert pubsub("topics.create", settings, name=topic, body={"labels": {"team": "ops"}}) == {
        "name": topic,
        "labels": {"team": "ops"},
    }
    assert pubsub("topics.get", settings, topic=topic)["name"] == topic
    created = pubsub("subscriptions.create", settings, name=subscription, body={"topic": topic})
    assert (created["name"], created["topic"]) == (subscription, topic)
    data = base64.b64encode(b"approved").decode()
    pubsub("topics.publish", settings, topic=topic, body={"messages": [{"data": data}]})
    pulled = pubsub("subscriptions.pull", settings, subscription=subscription, body={"maxMessages": 5})
    [received] = pulled["receivedMessages"]
    assert base64.b64decode(received["message"]["data"]) == b"approved"
    ack = {"ackIds": [received["ackId"]]}
    assert pubsub("subscriptions.acknowledge", settings, subscription=subscription, body=ack) == {}
    assert pubsub("subscriptions.delete", settings, subscription=subscription) == {}
    assert pubsub("topics.delete", settings, topic=topic) == {}
    with pytest.raises(WorkflowError) as caught:
        pubsub("topics.get", settings, topic=topic)
    assert (caught.value.tags, caught.value.value["code"]) == (["HttpError"], 404)


def test_pubsub_create_errors_carry_the_rest_status(pubsub_emulator: PubSubEmulator) -> None:
    """HttpError with the REST status: an existing topic is ALREADY_EXISTS (409), a subscription
    to a missing topic NOT_FOUND (404)."""
    settings = ConnectorSettings(pubsub_host=pubsub_emulator.host, project=PROJECT)
    topic = f"projects/{PROJECT}/topics/connector-twice"
    pubsub("topics.create", settings, name=topic, body={})
    codes = []
    for method, args in (
        ("topics.create", {"name": topic, "body": {}}),
        (
            "subscriptions.create",
            {"name": f"projects/{PROJECT}/subscriptions/orphan", "body": {"topic": topic + "-missing"}},
        ),
    ):
        with pytest.raises(WorkflowError) as caught:
            pubsub(method, settings, **args)
        codes.append((caught.value.tags, caught.value.value["code"]))
    pubsub("topics.delete", settings, topic=topic)
    assert codes == [(["HttpError"], 409), (["HttpError"], 404)]


def test_translate_languages_list(translator: TranslationServer) -> None:
    """languages.list: `{data: {languages: [{language, name?}]}}`, `name` only with a `target`."""
    settings = ConnectorSettings(translate_url=translator.url)
    named = call_connector(LANGUAGES, {"target": "en"}, settings, TOKENS)["data"]["languages"]
    assert {"language": "fr", "name": "French"} in named
    codes = call_connector(LANGUAGES, {}, settings, TOKENS)["data"]["languages"]
    assert codes == [{"language": language["language"]} for language in named]


def test_translate_languages_list_sends_target_and_model_as_query() -> None:
    with RecordingServer() as server:
        settings = ConnectorSettings(translate_url=server.url)
        call_connector(LANGUAGES, {"target": "fr", "model": "nmt"}, settings, TOKENS)
        [call] = server.calls
    assert (call.method, call.path) == ("GET", "/language/translate/v2/languages?target=fr&model=nmt")


def test_unknown_connector_lists_what_is_supported() -> None:
    assert check_supported(DOCS + "get") is None
    problem = check_supported("googleapis.storage.v1.objects.get")
    assert problem is not None
    assert all(prefix in problem for prefix in SUPPORTED)
    assert "googleapis.storage.v1.objects.get" in problem
    with pytest.raises(WorkflowError) as caught:
        call_connector("googleapis.storage.v1.objects.get", {}, ConnectorSettings(), TOKENS)
    assert caught.value.value["message"] == problem


def test_unknown_method_of_a_supported_connector_names_its_methods() -> None:
    problem = check_supported(DOCS + "exportDocuments")
    assert problem is not None
    assert DOCS + "createDocument" in problem
    assert "googleapis.pubsub" not in problem


def readme_connector_methods() -> set[str]:
    """The methods the README's connector table lists: each row's prefix joined to its methods."""
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    methods = set()
    for prefix, listed in re.findall(r"^\| `(googleapis\.[\w.]+\.)` \| ([^|]+) \|", readme, re.MULTILINE):
        methods.update(prefix + method for method in re.findall(r"`([\w.]+)`", listed))
    return methods


def test_readme_lists_exactly_the_supported_methods_as_the_refusal_does() -> None:
    problem = check_supported("googleapis.storage.v1.objects.get")
    assert problem is not None
    assert readme_connector_methods() == set(CONNECTORS)
    assert all(method in problem for method in CONNECTORS)
