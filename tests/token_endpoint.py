"""A local identity provider for tests: the token endpoint and the introspection endpoint.

One small HTTP server (plain HTTP, and HTTPS with a test CA where a library insists on
it, as MSAL does) speaking the documented protocols: OAuth 2.0 client credentials with a
secret or a certificate assertion (RFC 6749 4.4, RFC 7523), the refresh-token grant with
rotation, Google's JWT bearer grant for a service account acting as a user (RFC 7523 2.1),
Microsoft's OpenID discovery document, and token introspection (RFC 7662) for Dovecot's
``oauth2`` passdb. Errors are the providers' documented bodies (``AADSTS...`` codes for
the Microsoft paths). Token lifetimes are judged by the test's clock, never the wall
clock: the test moves time on and the tokens expire. No pytest here, so that ``bench/``
could start it too; ``tests/fixtures_servers.py`` wraps it in a fixture.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import secrets
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.servers import HOST, TestCA, free_port

Clock = Callable[[], dt.datetime]

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
CLIENT_ASSERTION = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
#: Google documents this ``aud`` for a service account's assertion, whatever the endpoint.
GOOGLE_TOKEN_AUDIENCE = "https://oauth2.googleapis.com/token"
GOOGLE_MAIL_SCOPE = "https://mail.google.com/"
MICROSOFT_SCOPE = "https://outlook.office365.com/.default"


class SteppingClock:
    """A clock the test moves on by hand: ``clock()`` reads it, ``clock.advance(s)`` moves it."""

    def __init__(self, start: dt.datetime) -> None:
        self.now = start
        self._lock = threading.Lock()

    def __call__(self) -> dt.datetime:
        with self._lock:
            return self.now

    def advance(self, seconds: float) -> None:
        """Move the time on by ``seconds``."""
        with self._lock:
            self.now += dt.timedelta(seconds=seconds)


@dataclass
class Client:
    """A registered application: its secret or certificate and the mailbox it may open."""

    client_id: str
    secret: str | None = None
    certificate: x509.Certificate | None = None
    mailbox: str | None = None  # the mailbox its app-only tokens are good for
    secret_expired: bool = False
    consented: bool = True


@dataclass
class ServiceAccount:
    """A Google service account: its public key and whether domain-wide delegation is on."""

    email: str
    public_key: Any
    delegated_scopes: set[str] = field(default_factory=lambda: {GOOGLE_MAIL_SCOPE})


@dataclass
class Issued:
    """An access token the endpoint issued: for whom, until when, and whether revoked."""

    client_id: str
    username: str | None
    expires_at: dt.datetime
    revoked: bool = False


@dataclass
class GeneratedKey:
    """A private key (PEM) and its self-signed certificate (PEM), for certificate credentials."""

    key_pem: str
    cert_pem: str

    @property
    def certificate(self) -> x509.Certificate:
        return x509.load_pem_x509_certificate(self.cert_pem.encode())

    def private_key(self) -> Any:
        return serialization.load_pem_private_key(self.key_pem.encode(), None)


def generate_key(common_name: str = "intake-bot test app") -> GeneratedKey:
    """An RSA key and a self-signed certificate, as an admin makes for an app or a service account."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, common_name)])
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=3650))
        .sign(key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    key_pem = key.private_bytes(
        pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return GeneratedKey(key_pem, cert.public_bytes(pem).decode())


class OAuthError(Exception):
    """An error answer of the token endpoint: HTTP status and the JSON body."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(body.get("error"))
        self.status = status
        self.body = body


def _microsoft_error(error: str, code: int, text: str) -> OAuthError:
    """An error body as Microsoft Entra ID documents it (error, AADSTS code, trace ids)."""
    trace = secrets.token_hex(8)
    return OAuthError(400 if error != "invalid_client" else 401, {
        "error": error,
        "error_description": f"AADSTS{code}: {text} Trace ID: {trace} Correlation ID: {trace} "
                             "Timestamp: 2026-11-23 12:00:00Z",
        "error_codes": [code],
        "timestamp": "2026-11-23 12:00:00Z",
        "trace_id": trace,
        "correlation_id": trace,
        "error_uri": f"https://login.microsoftonline.com/error?code={code}",
    })


class IdentityProvider:
    """The local token and introspection endpoint; see the module docstring.

    ``clock`` decides when tokens expire; ``lifetime_s`` is the ``expires_in`` of every
    access token. With ``ca`` it also listens with HTTPS (``https_port``). Counters for
    assertions: ``token_requests`` (each request's grant type and client), and
    ``introspections`` (each answer Dovecot got: active or not).
    """

    def __init__(self, clock: Clock, ca: TestCA | None = None, lifetime_s: int = 3600) -> None:
        self.clock = clock
        self.lifetime_s = lifetime_s
        self.clients: dict[str, Client] = {}
        self.service_accounts: dict[str, ServiceAccount] = {}
        self.tenants = {"example.org"}
        self.rotate_refresh_tokens = True
        self.refresh_tokens: dict[str, tuple[str, str | None]] = {}  # token: (client, mailbox)
        self.issued: dict[str, Issued] = {}
        self.token_requests: list[dict[str, str]] = []
        self.introspections: list[bool] = []
        self._lock = threading.Lock()
        self._servers: list[ThreadingHTTPServer] = []
        self.port = free_port()
        self.https_port = free_port() if ca else None
        self._ca = ca

    # --- running -----------------------------------------------------------------------

    def start(self) -> None:
        """Listen on ``port`` (HTTP) and, with a CA, ``https_port`` (HTTPS), each in a thread."""
        handler = _handler_for(self)
        plain = ThreadingHTTPServer((HOST, self.port), handler)
        self._servers.append(plain)
        if self._ca is not None and self.https_port is not None:
            secure = ThreadingHTTPServer((HOST, self.https_port), handler)
            secure.socket = self._ca.server_context().wrap_socket(secure.socket, server_side=True)
            self._servers.append(secure)
        for server in self._servers:
            server.daemon_threads = True
            threading.Thread(target=server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        """Stop listening."""
        for server in self._servers:
            server.shutdown()
            server.server_close()
        self._servers.clear()

    def reset(self) -> None:
        """Forget every registration, token and counter (between tests)."""
        with self._lock:
            self.clients.clear()
            self.service_accounts.clear()
            self.tenants = {"example.org"}
            self.rotate_refresh_tokens = True
            self.refresh_tokens.clear()
            self.issued.clear()
            self.token_requests.clear()
            self.introspections.clear()
            self.lifetime_s = 3600

    # --- addresses ---------------------------------------------------------------------

    def url(self, path: str, *, tls: bool = False) -> str:
        """``http://127.0.0.1:PORT/path``, or the HTTPS listener's with ``tls``."""
        if tls:
            return f"https://{HOST}:{self.https_port}/{path.lstrip('/')}"
        return f"http://{HOST}:{self.port}/{path.lstrip('/')}"

    @property
    def token_url(self) -> str:
        """The generic token endpoint over plain HTTP on loopback."""
        return self.url("token")

    @property
    def introspection_url(self) -> str:
        """Where Dovecot asks whether a token is active."""
        return self.url("introspect")

    def microsoft_token_url(self, tenant: str = "example.org") -> str:
        """``https://127.0.0.1:PORT/<tenant>/oauth2/v2.0/token``, shaped like Entra ID's."""
        return self.url(f"{tenant}/oauth2/v2.0/token", tls=True)

    # --- registrations -----------------------------------------------------------------

    def add_client(self, client_id: str, *, secret: str | None = None,
                   certificate: x509.Certificate | None = None,
                   mailbox: str | None = None) -> Client:
        """Register an application allowed to open ``mailbox`` with its app-only tokens."""
        client = Client(client_id, secret, certificate, mailbox)
        self.clients[client_id] = client
        return client

    def add_service_account(self, email: str, key: GeneratedKey) -> ServiceAccount:
        """Register a Google service account whose domain-wide delegation allows mail."""
        account = ServiceAccount(email, key.certificate.public_key())
        self.service_accounts[email] = account
        return account

    def add_refresh_token(self, client_id: str, mailbox: str) -> str:
        """Issue a refresh token to ``client_id`` for ``mailbox``, as a user's consent does."""
        token = "rt-" + secrets.token_urlsafe(24)
        self.refresh_tokens[token] = (client_id, mailbox)
        return token

    # --- faults ------------------------------------------------------------------------

    def revoke_access_tokens(self) -> None:
        """Refuse every token issued so far, before its expiry (as a server may)."""
        with self._lock:
            for issued in self.issued.values():
                issued.revoked = True

    def revoke_refresh_tokens(self) -> None:
        """Revoke every refresh token (a password change, an admin's revocation)."""
        with self._lock:
            self.refresh_tokens.clear()

    # --- observations ------------------------------------------------------------------

    def grants(self, grant_type: str | None = None) -> list[dict[str, str]]:
        """The token requests answered, optionally only those of ``grant_type``."""
        with self._lock:
            return [r for r in self.token_requests
                    if grant_type is None or r["grant_type"] == grant_type]

    # --- the endpoints -----------------------------------------------------------------

    def discovery(self, tenant: str) -> dict[str, Any]:
        """Microsoft's OpenID configuration for ``tenant`` (MSAL reads it before a grant)."""
        if tenant not in self.tenants:
            raise _microsoft_error("invalid_tenant", 90002, f"Tenant '{tenant}' not found. "
                                   "Check to make sure you have the correct tenant ID and are "
                                   "signing into the correct cloud.")
        base = self.url(tenant, tls=True)
        return {
            "token_endpoint": f"{base}/oauth2/v2.0/token",
            "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
            "issuer": f"{base}/v2.0",
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt",
                                                      "client_secret_basic"],
        }

    def token(self, form: dict[str, str], authorization: str | None, *,
              tenant: str | None, endpoint: str) -> dict[str, Any]:
        """Answer one token request, or raise :class:`OAuthError`."""
        grant_type = form.get("grant_type", "")
        with self._lock:
            if tenant is not None and tenant not in self.tenants:
                raise _microsoft_error("invalid_request", 90002, f"Tenant '{tenant}' not found.")
            if grant_type == JWT_BEARER:
                username, client_id = self._service_account_grant(form)
                refresh = None
            else:
                client = self._authenticate_client(form, authorization, endpoint,
                                                   microsoft=tenant is not None)
                client_id = client.client_id
                if grant_type == "client_credentials":
                    if not client.consented:
                        raise _microsoft_error(
                            "invalid_grant", 65001, "The user or administrator has not "
                            f"consented to use the application with ID '{client_id}'.")
                    username, refresh = client.mailbox, None
                elif grant_type == "refresh_token":
                    username, refresh = self._refresh_grant(form, client_id)
                else:
                    raise OAuthError(400, {"error": "unsupported_grant_type"})
            self.token_requests.append({"grant_type": grant_type, "client_id": client_id})
            access = "at-" + secrets.token_urlsafe(24)
            self.issued[access] = Issued(client_id, username,
                                         self.clock() + dt.timedelta(seconds=self.lifetime_s))
        answer: dict[str, Any] = {"access_token": access, "token_type": "Bearer",
                                  "expires_in": self.lifetime_s}
        if refresh is not None:
            answer["refresh_token"] = refresh
        return answer

    def _authenticate_client(self, form: dict[str, str], authorization: str | None,
                             endpoint: str, *, microsoft: bool) -> Client:
        """The client a request authenticates as (basic, post or a signed assertion)."""
        client_id, secret = form.get("client_id", ""), form.get("client_secret")
        if authorization and authorization.startswith("Basic "):
            decoded = base64.b64decode(authorization[6:]).decode()
            client_id, _, secret = (unquote(part) for part in decoded.partition(":"))
        client = self.clients.get(client_id)
        if client is None:
            if microsoft:
                raise _microsoft_error("unauthorized_client", 700016, f"Application with "
                                       f"identifier '{client_id}' was not found in the directory.")
            raise OAuthError(401, {"error": "invalid_client",
                                   "error_description": "unknown client"})
        if form.get("client_assertion_type") == CLIENT_ASSERTION:
            if client.certificate is None or not _valid_assertion(
                    form.get("client_assertion", ""), client, endpoint):
                raise _microsoft_error("invalid_client", 700027,
                                       "Client assertion failed signature validation.")
            return client
        if client.secret is None or secret != client.secret:
            if microsoft:
                raise _microsoft_error("invalid_client", 7000215,
                                       "Invalid client secret provided. Ensure the secret being "
                                       "sent in the request is the client secret value, not the "
                                       f"client secret ID, for a secret added to app '{client_id}'.")
            raise OAuthError(401, {"error": "invalid_client",
                                   "error_description": "client authentication failed"})
        if client.secret_expired:
            raise _microsoft_error("invalid_client", 7000222, "The provided client secret keys "
                                   f"for app '{client_id}' are expired.")
        return client

    def _refresh_grant(self, form: dict[str, str], client_id: str) -> tuple[str | None, str]:
        """Check a refresh token; rotate it when rotation is on."""
        old = form.get("refresh_token", "")
        holder = self.refresh_tokens.get(old)
        if holder is None or holder[0] != client_id:
            raise OAuthError(400, {"error": "invalid_grant",
                                   "error_description": "The refresh token is invalid or revoked."})
        if not self.rotate_refresh_tokens:
            return holder[1], old
        del self.refresh_tokens[old]
        new = "rt-" + secrets.token_urlsafe(24)
        self.refresh_tokens[new] = holder
        return holder[1], new

    def _service_account_grant(self, form: dict[str, str]) -> tuple[str, str]:
        """Check a service account's signed assertion; the token acts as its ``sub``."""
        assertion = form.get("assertion", "")
        try:
            claims = jwt.decode(assertion, options={"verify_signature": False})
            account = self.service_accounts[claims["iss"]]
            # Signature, audience and issuer only: its iat/exp come from the wall clock.
            jwt.decode(assertion, account.public_key, algorithms=["RS256"],
                       audience=GOOGLE_TOKEN_AUDIENCE,
                       options={"verify_exp": False, "verify_iat": False})
        except (jwt.PyJWTError, KeyError):
            raise OAuthError(400, {"error": "invalid_grant",
                                   "error_description": "Invalid JWT Signature."}) from None
        if not set(claims.get("scope", "").split()) <= account.delegated_scopes:
            raise OAuthError(401, {"error": "unauthorized_client",
                                   "error_description": "Client is unauthorized to retrieve "
                                   "access tokens using this method, or client not authorized "
                                   "for any of the scopes requested."})
        return claims.get("sub") or claims["iss"], claims["iss"]

    def introspect(self, token: str) -> dict[str, Any]:
        """RFC 7662: active while issued, not revoked and not expired by the test's clock."""
        with self._lock:
            issued = self.issued.get(token)
            active = (issued is not None and not issued.revoked
                      and self.clock() < issued.expires_at)
            self.introspections.append(active)
        if not active or issued is None:
            return {"active": False}
        # A token for no mailbox (an app nobody gave rights on one) matches no login.
        return {"active": True, "username": issued.username or "(no mailbox)",
                "client_id": issued.client_id}


    def owner_of(self, token: str) -> str | None:
        """The mailbox an active token is good for, or None: what the SMTP sink asks."""
        answer = self.introspect(token)
        return str(answer["username"]) if answer["active"] else None


def _valid_assertion(assertion: str, client: Client, endpoint: str) -> bool:
    """A client assertion signed by the client's certificate key, for this endpoint."""
    assert client.certificate is not None
    try:
        header = jwt.get_unverified_header(assertion)
        thumbprint = base64.urlsafe_b64encode(
            client.certificate.fingerprint(hashes.SHA256())).rstrip(b"=").decode()
        if str(header.get("x5t#S256", "")).rstrip("=") != thumbprint:  # padded or not
            return False
        claims = jwt.decode(assertion, client.certificate.public_key(),
                            algorithms=["PS256", "RS256"], audience=endpoint,
                            options={"verify_exp": False, "verify_nbf": False,
                                     "verify_iat": False})
    except jwt.PyJWTError:
        return False
    return bool(claims.get("iss") == claims.get("sub") == client.client_id)


def _handler_for(provider: IdentityProvider) -> type[BaseHTTPRequestHandler]:
    """A request handler class bound to ``provider``."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
            pass  # quiet: test output stays readable

        def do_GET(self) -> None:
            parts = self.path.strip("/").split("/")
            if len(parts) == 4 and parts[1:] == ["v2.0", ".well-known", "openid-configuration"]:
                self._answer(lambda: provider.discovery(parts[0]))
            else:
                self._send(404, {"error": "not_found"})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode()
            form = {key: values[0] for key, values in parse_qs(body).items()}
            parts = self.path.strip("/").split("/")
            own_url = provider.url(self.path, tls=isinstance(self.connection, ssl.SSLSocket))
            if self.path == "/introspect":
                self._send(200, provider.introspect(form.get("token", "")))
            elif self.path == "/token":
                self._answer(lambda: provider.token(
                    form, self.headers.get("Authorization"), tenant=None, endpoint=own_url))
            elif len(parts) == 4 and parts[1:] == ["oauth2", "v2.0", "token"]:
                self._answer(lambda: provider.token(
                    form, self.headers.get("Authorization"), tenant=parts[0], endpoint=own_url))
            else:
                self._send(404, {"error": "not_found"})

        def _answer(self, produce: Callable[[], dict[str, Any]]) -> None:
            try:
                self._send(200, produce())
            except OAuthError as error:
                self._send(error.status, error.body)

        def _send(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(data)

    return Handler
