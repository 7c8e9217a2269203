"""googleapis.translate.v2 / v3 connectors, posting to a configurable translation endpoint.

Locally that endpoint is emulator.translation, which is plainly not Google's
translator; pointed at https://translation.googleapis.com with real tokens
the same requests would reach the real API. Paths and shapes follow the Cloud
Translation REST reference: v2 `POST /language/translate/v2` answering
`{data: {translations: [{translatedText, detectedSourceLanguage?}]}}`, v2
`GET /language/translate/v2/languages` answering `{data: {languages: [{language,
name?}]}}`, v3
`POST /v3/{parent}:translateText` answering `{translations: [{translatedText}]}`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from approvals.engine.runtime.connectors.rest import (
    Connector,
    ConnectorSettings,
    Endpoint,
    connector_params,
    invoke,
    request,
    require,
    timeout,
)
from approvals.engine.runtime.errors import TYPE_ERROR, WorkflowError
from approvals.engine.runtime.tokens import TokenSource

V2 = "googleapis.translate.v2.translations.translate"
LANGUAGES = "googleapis.translate.v2.languages.list"
V3 = "googleapis.translate.v3.projects.locations.translateText"
# TranslateTextRequest (v2) fields.
V2_FIELDS = ("q", "target", "source", "format", "model", "cid")
V3_ENDPOINT = Endpoint("POST", "{parent}:translateText", body=True)
# Its arguments `target` and `model` are query parameters (connector reference, languages.list).
LANGUAGES_ENDPOINT = Endpoint("GET", "languages")
_WHAT = "translation endpoint (TRANSLATE_URL)"


def translate_v2(args: Mapping[str, Any], settings: ConnectorSettings, tokens: TokenSource) -> Any:
    """v2 translate: the request fields may come as `query:` (like the repository's
    translation template), as `body:`, or as plain arguments; all are merged."""
    base = require(settings.translate_url, V2, _WHAT)
    args = dict(args)
    params = connector_params(V2, args.pop("connector_params", None))
    fields: dict[str, Any] = {}
    for part in ("query", "body"):
        value = args.pop(part, None)
        if value is not None and not isinstance(value, dict):
            raise WorkflowError.tagged(TYPE_ERROR, f"{V2}: {part} must be a map")
        fields.update(value or {})
    unknown = sorted(set(args) - set(V2_FIELDS))
    if unknown:
        raise WorkflowError.tagged(
            TYPE_ERROR, f"{V2}: unexpected argument(s) {', '.join(unknown)}; expected {', '.join(V2_FIELDS)}"
        )
    fields.update(args)
    for field in ("q", "target"):
        if fields.get(field) is None:
            raise WorkflowError.tagged(TYPE_ERROR, f"{V2}: missing required argument {field}")
    # Imported with the first call, as in rest.invoke.
    from approvals.engine.runtime.http_client import access_token

    token = access_token(V2, tokens, params.get("scopes"))
    url = f"{base.rstrip('/')}/language/translate/v2"
    return request("POST", url, token=token, body=fields, timeout=timeout(V2, params))


def languages(args: Mapping[str, Any], settings: ConnectorSettings, tokens: TokenSource) -> Any:
    """v2 languages.list: the supported languages, named in `target`'s language when given."""
    base = require(settings.translate_url, LANGUAGES, _WHAT)
    return invoke(LANGUAGES, LANGUAGES_ENDPOINT, f"{base.rstrip('/')}/language/translate/v2", args, tokens)


def translate_v3(args: Mapping[str, Any], settings: ConnectorSettings, tokens: TokenSource) -> Any:
    """v3 translateText: `parent` in the path, the TranslateTextRequest as `body`."""
    base = require(settings.translate_url, V3, _WHAT)
    return invoke(V3, V3_ENDPOINT, f"{base.rstrip('/')}/v3", args, tokens)


CONNECTORS: dict[str, Connector] = {
    LANGUAGES: languages,
    V2: translate_v2,
    V3: translate_v3,
}
