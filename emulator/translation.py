"""A local stand-in for Cloud Translation's v2 and v3 REST endpoints. It does NOT translate.

It answers the real request and response shapes so that workflows and their
connectors run end to end, but its "translation" is the input text behind a
marker naming the language pair, e.g. "[local translation en→fr] Hello", and
every response carries the header X-Local-Translation saying so. Nothing here
is Google's translator, and no output should be mistaken for a translation.
Its language list (v2 `languages`) is a short fixed one, named in English; asked
for names in another language, it marks the English name the same way.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from typing import Any

from approvals.engine.api.local_server import LocalServer, QuietHandler, error_body

V2_PATH = "/language/translate/v2"
LANGUAGES_PATH = V2_PATH + "/languages"
# The stand-in's languages, by code, with their English names.
LANGUAGES = {
    "de": "German",
    "en": "English",
    "es": "Spanish",
    "fr": "French",
    "it": "Italian",
    "ja": "Japanese",
    "nl": "Dutch",
    "pt": "Portuguese",
}
V3_PATH = re.compile(r"^/v3/projects/[^/:]+(/locations/[^/:]+)?:translateText\Z")
NOTICE_HEADER = "X-Local-Translation"
NOTICE = "local stand-in; NOT Google Cloud Translation; text is only marked, not translated"
UNDETERMINED = "und"  # BCP-47 "undetermined": nothing is detected here


def mark(text: str, source: str | None, target: str) -> str:
    """The stand-in's deterministic output for `text`."""
    return f"[local translation {source or UNDETERMINED}→{target}] {text}"


class _Handler(QuietHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        path, _, query = self.path.partition("?")
        if path == V2_PATH:
            self._v2(urllib.parse.parse_qs(query))
        elif path == LANGUAGES_PATH:
            self._languages(urllib.parse.parse_qs(query))
        else:
            self._error(404, "NOT_FOUND", f"no such method: GET {path}")

    def do_POST(self) -> None:  # noqa: N802 - http.server naming
        path, _, query = self.path.partition("?")
        body = self.read_body()
        content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        try:
            if path in (V2_PATH, LANGUAGES_PATH):
                fields = urllib.parse.parse_qs(query)
                if content_type == "application/x-www-form-urlencoded":
                    fields.update(urllib.parse.parse_qs(body.decode()))
                elif body:
                    fields.update(json.loads(body))
                (self._v2 if path == V2_PATH else self._languages)(fields)
            elif V3_PATH.match(path):
                self._v3(json.loads(body or b"{}"))
            else:
                self._error(404, "NOT_FOUND", f"no such method: POST {path}")
        except (ValueError, AttributeError) as error:
            self._error(400, "INVALID_ARGUMENT", f"invalid request body: {error}")

    def _v2(self, fields: dict[str, Any]) -> None:
        texts = _as_list(fields.get("q"))
        target = _first(fields.get("target"))
        source = _first(fields.get("source"))
        if not texts or not target:
            self._error(400, "INVALID_ARGUMENT", "q and target are required")
            return
        translations = []
        for text in texts:
            translation = {"translatedText": mark(text, source, target)}
            if not source:
                translation["detectedSourceLanguage"] = UNDETERMINED
            translations.append(translation)
        self._json(200, {"data": {"translations": translations}})

    def _languages(self, fields: dict[str, Any]) -> None:
        # "name": "Human readable name of the language localized to the target language",
        # only when a target is asked for (REST reference, languages.list).
        target = _first(fields.get("target"))
        languages = []
        for code, english in sorted(LANGUAGES.items()):
            language = {"language": code}
            if target:
                language["name"] = english if target.lower() == "en" else mark(english, "en", target)
            languages.append(language)
        self._json(200, {"data": {"languages": languages}})

    def _v3(self, request: dict[str, Any]) -> None:
        texts = _as_list(request.get("contents"))
        target = request.get("targetLanguageCode")
        source = request.get("sourceLanguageCode")
        if not texts or not target:
            self._error(400, "INVALID_ARGUMENT", "contents and targetLanguageCode are required")
            return
        translations = []
        for text in texts:
            translation = {"translatedText": mark(text, source, target)}
            if not source:
                translation["detectedLanguageCode"] = UNDETERMINED
            translations.append(translation)
        self._json(200, {"translations": translations})

    def _error(self, code: int, status: str, message: str) -> None:
        self._json(code, error_body(code, status, message))

    def _json(self, code: int, body: Any) -> None:
        self.reply(code, json.dumps(body).encode(), headers={NOTICE_HEADER: NOTICE})


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    return [str(item) for item in items]


def _first(value: Any) -> str | None:
    items = _as_list(value)
    return items[0] if items else None


class TranslationServer(LocalServer):
    """Serves v2 translate and languages and v3 translateText on 127.0.0.1; :attr:`url` is the base URL.

    Give :attr:`url` to the engine as the connectors' ``translate_url``.
    """

    handler_class = _Handler
