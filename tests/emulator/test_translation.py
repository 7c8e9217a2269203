"""The local translation stand-in: real request/response shapes, plainly not a translator."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from approvals.emulator.translation import NOTICE_HEADER, TranslationServer


@pytest.fixture(scope="module")
def server() -> Iterator[TranslationServer]:
    with TranslationServer() as translation:
        yield translation


def post(url: str, body: bytes, content_type: str = "application/json") -> tuple[int, dict[str, str], Any]:
    request = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": content_type})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), json.loads(error.read())


def test_v2_json_body(server: TranslationServer) -> None:
    """v2 answers {data: {translations: [{translatedText, detectedSourceLanguage?}]}}."""
    body = json.dumps({"q": ["Hello", "World"], "source": "en", "target": "fr"}).encode()
    status, headers, answer = post(f"{server.url}/language/translate/v2", body)
    assert status == 200
    assert answer == {
        "data": {
            "translations": [
                {"translatedText": "[local translation en→fr] Hello"},
                {"translatedText": "[local translation en→fr] World"},
            ]
        }
    }
    assert "NOT Google" in headers[NOTICE_HEADER]


def test_v2_form_and_get_without_source(server: TranslationServer) -> None:
    form = urllib.parse.urlencode({"q": "Hi", "target": "es"}).encode()
    _, _, answer = post(f"{server.url}/language/translate/v2", form, "application/x-www-form-urlencoded")
    with urllib.request.urlopen(f"{server.url}/language/translate/v2?q=Hi&target=es", timeout=10) as response:
        assert json.loads(response.read()) == answer
    assert answer["data"]["translations"] == [
        {"translatedText": "[local translation und→es] Hi", "detectedSourceLanguage": "und"}
    ]


def test_v3_translate_text(server: TranslationServer) -> None:
    body = json.dumps({"contents": ["Guten Tag"], "sourceLanguageCode": "de", "targetLanguageCode": "en"})
    status, headers, answer = post(
        f"{server.url}/v3/projects/p/locations/global:translateText", body.encode()
    )
    assert status == 200
    assert answer == {"translations": [{"translatedText": "[local translation de→en] Guten Tag"}]}
    assert NOTICE_HEADER in headers


def test_errors_use_google_error_shape(server: TranslationServer) -> None:
    status, _, answer = post(f"{server.url}/language/translate/v2", json.dumps({"q": "x"}).encode())
    assert (status, answer["error"]["status"]) == (400, "INVALID_ARGUMENT")
    status, _, answer = post(f"{server.url}/v2/elsewhere", b"{}")
    assert (status, answer["error"]["code"]) == (404, 404)
    status, _, _ = post(f"{server.url}/language/translate/v2", b"{not json")
    assert status == 400
