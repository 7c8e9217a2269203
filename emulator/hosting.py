"""Firebase Hosting on one local origin: the version's rewrites as a reverse proxy, plus /local/.

Rewrites are tried in order and the first whose glob (or regex) matches the
request path wins, as on Firebase Hosting; the request goes to the function
behind the rewrite with its path and query unchanged. The version's custom
headers are added to responses that do not set them already.

Everything under /local/ exists only here, never in a deploy: sign-in
through the local identity provider, health, where the local services are,
the mail outbox (the functions' mail relay), the virtual clock and an engine
restart (see `LocalControl`).
"""

from __future__ import annotations

import json
import re
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from approvals.emulator.proxy import UpstreamError, forward
from approvals.engine.api.local_server import LocalServer, QuietHandler
from approvals.engine.runtime.clock import Clock

LOCAL_PREFIX = "/local/"


class HostingConfigError(ValueError):
    """A hosting version config the local origin cannot serve."""


def glob_pattern(glob: str) -> re.Pattern[str]:
    """A path glob as Firebase Hosting reads it: ``**`` spans folders, ``*`` and ``?`` do not, ``{a,b}``."""
    parts: list[str] = []
    i = 0
    while i < len(glob):
        if glob.startswith("/**/", i):
            parts.append("/(?:.*/)?")  # zero or more folders
            i += 4
        elif glob.startswith("**", i):
            parts.append(".*")
            i += 2
        elif glob[i] == "*":
            parts.append("[^/]*")
            i += 1
        elif glob[i] == "?":
            parts.append("[^/]")
            i += 1
        elif glob[i] == "{" and "}" in glob[i:]:
            end = glob.index("}", i)
            parts.append("(?:" + "|".join(re.escape(alt) for alt in glob[i + 1 : end].split(",")) + ")")
            i = end + 1
        else:
            parts.append(re.escape(glob[i]))
            i += 1
    return re.compile("".join(parts))


@dataclass(frozen=True)
class Rewrite:
    """Requests whose path matches ``pattern`` go to the Cloud Run service ``service``."""

    source: str  # the glob or regex as written, for messages
    pattern: re.Pattern[str]
    service: str


@dataclass(frozen=True)
class HeaderRule:
    """Headers added to responses for paths matching ``pattern``."""

    pattern: re.Pattern[str]
    headers: dict[str, str]


@dataclass(frozen=True)
class HostingConfig:
    """The parts of a ``gcp:firebase/hostingVersion`` config the local origin serves."""

    rewrites: tuple[Rewrite, ...]
    headers: tuple[HeaderRule, ...]

    @classmethod
    def parse(cls, config: Mapping[str, Any]) -> HostingConfig:
        """A version's ``config`` output; rewrites other than to a function or Cloud Run are refused."""
        rewrites = []
        for index, rule in enumerate(config.get("rewrites") or []):
            where = f"hosting rewrites[{index}]"
            pattern, source = _pattern(rule, where)
            # A 2nd gen function runs as the Cloud Run service of its own name.
            service = (rule.get("run") or {}).get("serviceId") or rule.get("function")
            if not isinstance(service, str) or not service:
                kinds = sorted(set(rule) - {"glob", "regex"})
                raise HostingConfigError(
                    f"{where}: only rewrites to a Cloud Run service or a function run locally, not {kinds}"
                )
            rewrites.append(Rewrite(source, pattern, service))
        headers = []
        for index, rule in enumerate(config.get("headers") or []):
            pattern, _ = _pattern(rule, f"hosting headers[{index}]")
            headers.append(
                HeaderRule(pattern, {str(k): str(v) for k, v in (rule.get("headers") or {}).items()})
            )
        return cls(tuple(rewrites), tuple(headers))

    def rewrite(self, path: str) -> Rewrite | None:
        """The first rewrite matching ``path``, as Hosting picks it."""
        return next((r for r in self.rewrites if r.pattern.fullmatch(path)), None)

    def headers_for(self, path: str) -> dict[str, str]:
        """The custom headers for ``path``, later rules overriding earlier ones."""
        found: dict[str, str] = {}
        for rule in self.headers:
            if rule.pattern.fullmatch(path):
                found.update(rule.headers)
        return found


def _pattern(rule: Mapping[str, Any], where: str) -> tuple[re.Pattern[str], str]:
    if isinstance(rule.get("glob"), str):
        return glob_pattern(rule["glob"]), rule["glob"]
    if isinstance(rule.get("regex"), str):
        try:
            return re.compile(rule["regex"]), rule["regex"]
        except re.error as error:
            raise HostingConfigError(f"{where}: bad regex {rule['regex']!r}: {error}") from error
    raise HostingConfigError(f"{where}: needs a glob or a regex")


class LocalControl(Protocol):
    """What the /local/ endpoints act on: the running local stack."""

    clock: Clock

    def sign_in(self, email: str) -> dict[str, Any]:
        """Firebase Auth's sign-in answer for ``email``; ValueError for a bad address."""

    def health(self) -> dict[str, Any]:
        """``{"status": "ok"|"degraded", "services": {name: "ok"|"down: ..."}}``."""

    def local_config(self) -> dict[str, Any]:
        """Where the local services are."""

    def send_mail(self, mail: Mapping[str, Any]) -> int:
        """Keep a mail in the outbox; its number there."""

    def mails(self) -> list[dict[str, Any]]:
        """The outbox, oldest first."""

    def advance(self, seconds: float) -> None:
        """Move the virtual clock; RuntimeError on a real clock."""

    def restart_engine(self) -> None:
        """Close the engine and open it again on the same store and ports."""


class BadRequestError(Exception):
    """A /local/ request the endpoint refuses with 400."""


# A /local/ endpoint: what it does with the stack and the request body -> status and JSON answer.
LocalAction = Callable[[LocalControl, bytes], tuple[int, Any]]


class _Handler(QuietHandler):
    def _handle(self) -> None:
        hosting: HostingServer = self.server.owner  # type: ignore[attr-defined]
        path = urllib.parse.urlsplit(self.path).path
        body = self.read_body()
        if path.startswith(LOCAL_PREFIX):
            self._local(hosting.control, path.removeprefix(LOCAL_PREFIX), body)
            return
        rewrite = hosting.config.rewrite(path)
        target = hosting.targets.get(rewrite.service) if rewrite else None
        if target is None:
            self._json(404, {"error": f"no hosting rewrite matches {path}"})
            return
        self._proxy(hosting, path, target, body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _handle  # noqa: N815

    def _json(self, status: int, body: Any) -> None:
        self.reply(status, json.dumps(body).encode(), headers={"Cache-Control": "no-store"})

    def _proxy(self, hosting: HostingServer, path: str, target: str, body: bytes) -> None:
        forwarded = {
            "X-Forwarded-Host": self.headers.get("Host", ""),
            "X-Forwarded-Proto": "http",
            "X-Forwarded-For": self.client_address[0],
        }
        try:
            forward(
                self,
                target,
                body,
                add_request_headers=forwarded,
                add_response_headers=hosting.config.headers_for(path),
            )
        except UpstreamError as error:
            self._json(502, {"error": f"the function behind {path} did not answer: {error}"})

    def _local(self, control: LocalControl, name: str, body: bytes) -> None:
        routes: dict[str, dict[str, LocalAction]] = {
            "sign-in": {"POST": self._sign_in},
            "health": {"GET": self._health},
            "config": {"GET": self._config},
            "outbox": {"GET": self._outbox, "POST": self._send_mail},
            "clock:advance": {"POST": self._advance},
            "engine:restart": {"POST": self._restart},
        }
        if name not in routes:
            self._json(404, {"error": f"no local endpoint {LOCAL_PREFIX}{name}", "details": sorted(routes)})
            return
        action = routes[name].get("GET" if self.command == "HEAD" else self.command)
        if action is None:
            self.send_response(405)
            self.send_header("Allow", ", ".join(routes[name]))
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        try:
            status, answer = action(control, body)
        except BadRequestError as error:
            status, answer = 400, {"error": str(error)}
        self._json(status, answer)

    @staticmethod
    def _object(body: bytes) -> dict[str, Any]:
        try:
            value = json.loads(body or b"{}")
        except ValueError as error:
            raise BadRequestError(f"the body is not JSON: {error}") from error
        if not isinstance(value, dict):
            raise BadRequestError("the body must be a JSON object")
        return value

    def _sign_in(self, control: LocalControl, body: bytes) -> tuple[int, Any]:
        request = self._object(body)
        if "groups" in request:
            # As with Google sign-in, a token carries no groups: nothing may pretend otherwise.
            raise BadRequestError(
                "sign-in takes no groups: group members come from the stack's approvals:groups "
                "(Pulumi.<stack>.yaml), stored in Firestore"
            )
        try:
            return 200, control.sign_in(request.get("email"))  # type: ignore[arg-type]
        except ValueError as error:
            raise BadRequestError(str(error)) from error

    def _health(self, control: LocalControl, body: bytes) -> tuple[int, Any]:
        report = control.health()
        return (200 if report["status"] == "ok" else 503), report

    def _config(self, control: LocalControl, body: bytes) -> tuple[int, Any]:
        return 200, control.local_config()

    def _outbox(self, control: LocalControl, body: bytes) -> tuple[int, Any]:
        return 200, {"mails": control.mails()}

    def _send_mail(self, control: LocalControl, body: bytes) -> tuple[int, Any]:
        """What the notify function sends a mail relay: {to, subject, text, link?}."""
        mail = self._object(body)
        for name in ("to", "subject", "text"):
            if not isinstance(mail.get(name), str):
                raise BadRequestError(f"{name} must be a string")
        if not isinstance(mail.get("link") or "", str):
            raise BadRequestError("link must be a string")
        return 200, {"id": control.send_mail(mail)}

    def _advance(self, control: LocalControl, body: bytes) -> tuple[int, Any]:
        seconds = self._object(body).get("seconds")
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0:
            raise BadRequestError("seconds must be a number >= 0")
        try:
            control.advance(seconds)
        except RuntimeError as error:
            return 409, {"error": str(error)}
        now = datetime.fromtimestamp(control.clock.now(), UTC)
        return 200, {"now": now.isoformat(timespec="microseconds").replace("+00:00", "Z")}

    def _restart(self, control: LocalControl, body: bytes) -> tuple[int, Any]:
        control.restart_engine()
        return 200, {"status": "restarted"}


class HostingServer(LocalServer):
    """The local origin: ``config``'s rewrites to ``targets`` (service id -> base URL), and /local/."""

    handler_class = _Handler

    def __init__(
        self,
        config: HostingConfig,
        targets: Mapping[str, str],
        control: LocalControl,
        port: int | None = None,
    ) -> None:
        super().__init__(port)
        self.config = config
        self.targets = dict(targets)
        self.control = control
