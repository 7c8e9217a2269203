"""Cloud Run's front end for a private function, on loopback: no valid ID token of an invoker, no call.

A Cloud Run service that does not grant run.invoker to allUsers is reached
only through Google's front end, which checks the caller before the container
sees anything: a Google-signed ID token in ``Authorization: Bearer``, whose
audience is the service's URL, of an identity that may invoke the service.
The local stack puts one `FrontEnd` before each such function; the URL that
the stack hands out for the function is the front end's, and the function
server's own port is told to nobody (on one machine it still answers whoever
finds it: the front end is the emulated control, not a sandbox). What passes
is forwarded unchanged.

Refusals answer as the Cloud Run troubleshooting guide lists them
(https://cloud.google.com/run/docs/troubleshooting, "Client is not
authenticated properly" and "Client is not authorized to invoke the service"):
401 for a token that is malformed, not validly signed, expired or for another
audience, or for several Authorization headers; 403 for a request with no
token at all, and for a valid token of an identity without run.invoker.
"""

from __future__ import annotations

from collections.abc import Collection

from approvals.emulator.google_tokens import IdTokenVerifier, InvalidTokenError
from approvals.emulator.proxy import UpstreamError, forward
from approvals.engine.api.local_server import LocalServer, QuietHandler

NOT_AUTHENTICATED = (
    "The request was not authenticated. Either allow public access or set the proper Authorization header"
)
NOT_AUTHORIZED = "The request was not authorized to invoke this service"
UNREACHABLE = (
    "The request failed because either the HTTP response was malformed or connection to the instance "
    "had an error"
)
# Members (lower-cased, as compared) that let any caller with a valid Google token in.
ANY_CALLER = frozenset({"allusers", "allauthenticatedusers"})


class Refusal(Exception):  # noqa: N818 - named for the answer it becomes
    """The front end's answer instead of the function's: a status and Cloud Run's wording."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class _Handler(QuietHandler):
    def _handle(self) -> None:
        front_end: FrontEnd = self.server.owner  # type: ignore[attr-defined]
        body = self.read_body()
        try:
            front_end.admit(self.headers.get_all("Authorization") or [], self.path)
        except Refusal as refusal:
            self._refuse(refusal)
            return
        try:
            forward(self, front_end.upstream, body)
        except UpstreamError:
            # What Cloud Run answers when the instance does not (troubleshooting guide, "Malformed
            # response or container instance connection issue").
            self._refuse(Refusal(503, UNREACHABLE))

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _handle  # noqa: N815

    def _refuse(self, refusal: Refusal) -> None:
        headers = {}
        if refusal.status == 401:
            # RFC 6750, 3: a 401 to a bearer-token request says so in WWW-Authenticate.
            headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
        self.reply(refusal.status, f"{refusal}\n".encode(), "text/plain; charset=utf-8", headers)


class FrontEnd(LocalServer):
    """The front end of a private function whose server listens at ``upstream``.

    ``invokers`` are the members holding run.invoker on the service (as
    ``StackPlan.invokers`` lists them); ``audiences`` are the URLs the function
    has in the cloud, which a token may name besides this front end's own URL
    (Cloud Run accepts "https://SERVICE.run.app or
    https://REGION-PROJECT_ID.cloudfunctions.net/FUNCTION", troubleshooting guide).
    """

    handler_class = _Handler

    def __init__(
        self,
        upstream: str,
        invokers: Collection[str],
        verifier: IdTokenVerifier,
        audiences: Collection[str] = (),
    ) -> None:
        super().__init__()
        self.upstream = upstream
        self.invokers = frozenset(member.lower() for member in invokers)
        self.verifier = verifier
        self._audiences = tuple(audiences)

    @property
    def audiences(self) -> frozenset[str]:
        """The ``aud`` values accepted: the function's URLs (this one's included), with or without a
        trailing slash (the Cloud Run sample's audience is "https://my-cloud-run-service.run.app/")."""
        urls = (self.url, *self._audiences)
        return frozenset(variant for url in urls for variant in (url.rstrip("/"), url.rstrip("/") + "/"))

    def admit(self, authorization: list[str], path: str) -> str:
        """The identity behind a request's Authorization headers, if it may invoke; else a Refusal."""
        authorization = [value for value in authorization if value.strip()]
        if not authorization:  # no header, or an empty one
            raise Refusal(403, NOT_AUTHENTICATED)
        # "Multiple authorization headers are present in the request", "The authorization header
        # contains multiple JWTs": 401 (troubleshooting guide).
        scheme, _, token = authorization[0].strip().partition(" ")
        if len(authorization) > 1 or scheme.lower() != "bearer" or not token or " " in token.strip():
            raise Refusal(401, NOT_AUTHORIZED)
        try:
            claims = self.verifier.verify(token.strip(), self.audiences)
        except InvalidTokenError as error:
            raise Refusal(401, f"{NOT_AUTHORIZED}: {error}") from error
        identity = str(claims["email"]).lower()
        if not self.may_invoke(identity):
            raise Refusal(
                403, f"Forbidden: Your client does not have permission to get URL {path} from this server"
            )
        return identity

    def may_invoke(self, identity: str) -> bool:
        """Whether ``identity`` (an e-mail) holds run.invoker on the service."""
        members = {f"serviceaccount:{identity}", f"user:{identity}", *ANY_CALLER}
        return not self.invokers.isdisjoint(members)
