"""Google's callback-translation sample, run on the engine with the Firestore emulator.

Sample: https://github.com/GoogleCloudPlatform/workflows-demos/tree/master/callback-translation
(translation-validation.yaml), explained in "Introducing Workflows callbacks",
https://cloud.google.com/blog/topics/developers-practitioners/introducing-workflows-callbacks,
and the tutorial https://cloud.google.com/workflows/docs/tutorials/callbacks-firestore.
Its behaviour: log the whole input map, store the text in Firestore under
`translations/{execution id}` of the project's `(default)` database, translate it
English to French with the Translation v2 connector, store the translation, create a
POST callback endpoint, store its URL, await a call for up to an hour, then store the
call's `approved` and return `{text, translation, approved}`. Its Cloud Function
(translationCallbackCall/index.js) POSTs `{"approved": ...}` as JSON with an OAuth
access token and reads the answer as JSON.

The workflow below is written here from that behaviour (same steps, connector calls and
arguments, same await), not copied. Translation is the local stand-in, which marks
rather than translates.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from google.cloud import firestore

from approvals.emulator.firestore import FirestoreEmulator
from approvals.emulator.translation import TranslationServer, mark
from approvals.engine.api.server import WorkflowsServer, loopback_url
from approvals.engine.runtime.clock import VirtualClock
from approvals.engine.runtime.connectors import ConnectorSettings
from approvals.engine.runtime.engine import Engine
from approvals.engine.runtime.store import Store
from tests.emulator.conftest import CallBack
from tests.support import PROJECT

VALIDATION = """
main:
  params: [request]
  steps:
    - log_input:
        call: sys.log
        args:
          text: ${request}
    - init:
        assign:
          - execution: ${sys.get_env("GOOGLE_CLOUD_WORKFLOW_EXECUTION_ID")}
          - original: ${request.text}
          - project: ${sys.get_env("GOOGLE_CLOUD_PROJECT_ID")}
          - folder: ${"projects/" + project + "/databases/(default)/documents/translations/"}
    - log_original:
        call: sys.log
        args:
          text: ${original}
    - save_original:
        call: googleapis.firestore.v1.projects.databases.documents.patch
        args:
          name: ${folder + execution}
          updateMask:
            fieldPaths: ["text"]
          body:
            fields:
              text:
                stringValue: ${original}
        result: saved
    - to_french:
        call: googleapis.translate.v2.translations.translate
        args:
          query:
            q: ${original}
            target: "FR"
            format: "text"
            source: "EN"
        result: answer
    - pick:
        assign:
          - french: ${answer.data.translations[0].translatedText}
    - log_french:
        call: sys.log
        args:
          text: ${french}
    - save_french:
        call: googleapis.firestore.v1.projects.databases.documents.patch
        args:
          name: ${folder + execution}
          updateMask:
            fieldPaths: ["translation"]
          body:
            fields:
              translation:
                stringValue: ${french}
        result: saved
    - open_callback:
        call: events.create_callback_endpoint
        args:
          http_callback_method: "POST"
        result: endpoint
    - log_endpoint:
        call: sys.log
        args:
          text: ${endpoint}
    - save_endpoint:
        call: googleapis.firestore.v1.projects.databases.documents.patch
        args:
          name: ${folder + execution}
          updateMask:
            fieldPaths: ["callback"]
          body:
            fields:
              callback:
                stringValue: ${endpoint.url}
        result: saved
    - wait_for_reviewer:
        call: events.await_callback
        args:
          callback: ${endpoint}
          timeout: 3600
        result: review
    - verdict:
        assign:
          - approved: ${review.http_request.body.approved}
    - save_verdict:
        call: googleapis.firestore.v1.projects.databases.documents.patch
        args:
          name: ${folder + execution}
          updateMask:
            fieldPaths: ["approved"]
          body:
            fields:
              approved:
                booleanValue: ${approved}
        result: saved
    - done:
        return:
          text: ${original}
          translation: ${french}
          approved: ${approved}
"""

REQUEST = {"text": "Hello, how are you?"}
FRENCH = mark(REQUEST["text"], "EN", "FR")


@pytest.fixture
def engine(
    store: Store,
    clock: VirtualClock,
    firestore_emulator: FirestoreEmulator,
    translator: TranslationServer,
    db: firestore.Client,
) -> Iterator[Engine]:
    """The conftest engine, with its connectors on the emulated Firestore and the stand-in."""
    settings = ConnectorSettings(
        firestore_host=firestore_emulator.host, translate_url=translator.url, project=PROJECT
    )
    engine = Engine(store, clock, project=PROJECT, connector_settings=settings, base_url=loopback_url())
    yield engine
    engine.close()


def start(engine: Engine) -> str:
    """Deploy and start the sample; it runs until it awaits its reviewer."""
    engine.deploy("translation-validation", VALIDATION)
    execution = engine.start("translation-validation", REQUEST)
    engine.wait_idle()
    return execution.id


def stored(db: firestore.Client, execution_id: str) -> dict[str, Any]:
    return db.collection("translations").document(execution_id).get().to_dict() or {}


def test_the_reviewers_verdict_is_stored_and_returned(
    engine: Engine, server: WorkflowsServer, db: firestore.Client, call_back: CallBack
) -> None:
    execution_id = start(engine)
    waiting = stored(db, execution_id)
    assert waiting == {"text": REQUEST["text"], "translation": FRENCH, "callback": waiting["callback"]}
    # The page's function POSTs to the URL it read from Firestore.
    answer = call_back(waiting["callback"], {"approved": True}, token="function-access-token")
    engine.wait_idle()

    assert answer.status_code == 200
    assert isinstance(answer.json(), dict)  # the function reads the answer as JSON
    execution = engine.get(execution_id)
    assert (execution.state, execution.result) == (
        "SUCCEEDED",
        {"text": REQUEST["text"], "translation": FRENCH, "approved": True},
    )
    assert stored(db, execution_id) == {**waiting, "approved": True}
    logged = [entry.payload for entry in engine.logs]
    assert logged[:3] == ['{"text":"Hello, how are you?"}', REQUEST["text"], FRENCH]
    assert waiting["callback"] in logged[3]


def test_nobody_reviewing_within_an_hour_fails_with_timeout_error(
    engine: Engine, server: WorkflowsServer, db: firestore.Client
) -> None:
    execution_id = start(engine)
    engine.advance(3600)

    execution = engine.get(execution_id)
    assert execution.state == "FAILED"
    assert execution.error is not None and "TimeoutError" in str(execution.error)
    assert "approved" not in stored(db, execution_id)
