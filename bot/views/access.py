"""Who may see what: the dashboard token.

The dashboard and the calendar feed list upcoming events across every
installation, so they are off (``404``) until the operator sets
``DASHBOARD_TOKEN``, and answer ``401`` to anyone without it. Calendar
clients cannot send headers, so ``?token=`` is accepted as well as
``Authorization: Bearer``. The comparison is constant-time.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable, Mapping

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# Security headers for the HTML views: no scripts, no framing, and no Referer, so a
# token in the address never leaks to the GitHub pages the dashboard links to.
VIEW_HEADERS: Mapping[str, str] = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": ("default-src 'none'; style-src 'unsafe-inline'; "
                                "img-src data:; base-uri 'none'; form-action 'none'; "
                                "frame-ancestors 'none'"),
}


def presented_token(request: web.Request) -> str | None:
    """The token a request carries: ``Authorization: Bearer TOKEN``, else ``?token=TOKEN``."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    query = request.query.get("token")
    return query if query else None


def token_matches(presented: str | None, expected: str) -> bool:
    if presented is None:
        return False
    # compare_digest on bytes: constant-time whatever the characters are.
    return hmac.compare_digest(presented.encode("utf-8"), expected.encode("utf-8"))


def refusal(request: web.Request, expected: str | None) -> web.Response | None:
    """``404`` when the views are off, ``401`` without the right token, else None."""
    if not expected:
        return web.Response(status=404, text="Not found: set DASHBOARD_TOKEN to turn on the "
                                             "dashboard and the calendar feed.\n")
    if not token_matches(presented_token(request), expected):
        return web.Response(
            status=401, text="Unauthorized: send Authorization: Bearer TOKEN or ?token=TOKEN.\n",
            headers={"WWW-Authenticate": 'Bearer realm="event-support-bot"',
                     "Cache-Control": "no-store"})
    return None


def protected(expected: Callable[[web.Request], str | None]) -> Callable[[Handler], Handler]:
    """Wrap a view so it runs only for a request with the dashboard token."""

    def wrap(handler: Handler) -> Handler:
        async def guarded(request: web.Request) -> web.StreamResponse:
            refused = refusal(request, expected(request))
            if refused is not None:
                return refused
            return await handler(request)

        guarded.__name__ = getattr(handler, "__name__", "view")
        guarded.__doc__ = handler.__doc__
        return guarded

    return wrap


# --- who may vouch for a request (confirmed requests) ----------------------
