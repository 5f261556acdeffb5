"""The server's guard, in front of every request (plain ASGI middleware):

- `Host` must name this server (a loopback name unless `--host` says otherwise): a page on
  another site that re-points its DNS name at 127.0.0.1 (DNS rebinding) is refused;
- a request that changes something (POST, DELETE...) from a browser must come from this
  server's own pages: its `Origin` must be exactly this server, and `Sec-Fetch-Site` must not
  say cross-site; API reads from another site are refused the same way;
- the request body may not exceed the upload limit, whether it declares its length or not.

A refused request gets 4xx with `{"error": "..."}`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from urllib.parse import urlsplit

log = logging.getLogger(__name__)

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (
        b"content-security-policy",
        b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        b"media-src 'self' blob: data:; connect-src 'self'; frame-ancestors 'none'; "
        b"base-uri 'none'; form-action 'self'",
    ),
]


class BodyTooLarge(Exception):
    """The request body went over the limit while it was being read."""


def host_name(netloc: str) -> str:
    """'127.0.0.1:8765' -> '127.0.0.1', '[::1]:80' -> '::1'."""
    netloc = netloc.strip().lower()
    if netloc.startswith("["):
        return netloc[1:].split("]", 1)[0]
    return netloc.rsplit(":", 1)[0] if netloc.count(":") == 1 else netloc


class Guard:
    def __init__(self, app, allowed_hosts: Iterable[str], max_body_bytes: int):
        self.app = app
        self.allowed = frozenset(h.lower().strip("[]") for h in allowed_hosts)
        self.max_body = max_body_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        problem = self._refusal(scope, headers)
        if problem:
            status, message = problem
            log.warning("refused %s %s: %s", scope["method"], scope["path"], message)
            return await _json(send, status, message)
        length = headers.get("content-length")
        if length is not None:
            if not length.isdigit():
                return await _json(send, 400, "the Content-Length header is not a number")
            if int(length) > self.max_body:
                return await _json(send, 413, self.too_large_message())
        received = 0

        async def limited_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    raise BodyTooLarge(self.too_large_message())
            return message

        started = False

        async def send_with_headers(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message = {
                    **message,
                    "headers": list(message.get("headers", [])) + SECURITY_HEADERS,
                }
            await send(message)

        try:
            await self.app(scope, limited_receive, send_with_headers)
        except BodyTooLarge as exc:
            if not started:
                await _json(send, 413, str(exc))

    def too_large_message(self) -> str:
        return (
            f"the upload is over the {self.max_body / 1e6:.0f} MB limit; send only the "
            "self-introduction (a 3-minute phone recording is a few MB), or start the server "
            "with a larger --max-upload"
        )

    def _refusal(self, scope, headers: dict[str, str]) -> tuple[int, str] | None:
        host = headers.get("host", "")
        if host_name(host) not in self.allowed:
            return (
                421,
                f"this server answers only to {', '.join(sorted(self.allowed))}, not to the host "
                f"{host!r}; open it at the address `speechcoach serve` printed",
            )
        site = headers.get("sec-fetch-site", "")
        unsafe = scope["method"] not in SAFE_METHODS
        origin = headers.get("origin")
        if unsafe and origin is not None:
            parts = urlsplit(origin)
            if parts.scheme not in ("http", "https") or parts.netloc.lower() != host.lower():
                return (
                    403,
                    f"refused a request from another site ({origin}); use the speechcoach "
                    "pages of this server",
                )
        if site in ("cross-site", "same-site") and (unsafe or scope["path"].startswith("/api/")):
            return (
                403,
                "refused a request from another site; use the speechcoach pages of this server",
            )
        return None


async def _json(send, status: int, message: str) -> None:
    body = json.dumps({"error": message}, ensure_ascii=False).encode("utf-8")
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                *SECURITY_HEADERS,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
