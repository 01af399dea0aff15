"""Security headers for every HTTP response of the app, and no public ``/_stcore/metrics``.

Streamlit's server options set none of these (docs/security.md lists what is and is not covered), but its
``st.App`` takes Starlette middleware; ``serve.py`` wraps the app in this one. Written out rather than
pulled in as a dependency: it is five headers and one refused path.
"""
from __future__ import annotations

# What the page needs: its own scripts plus one inline bootstrap line, Vega's expression compiler (eval),
# inline styles, images and fonts from itself or data:/blob: URLs (charts, st.image), the material-icon
# favicon Streamlit fetches from fonts.gstatic.com, and its websocket. Everything else (a crafted link's
# image or script, framing by another site) is refused by the browser.
CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data: blob: https://fonts.gstatic.com; font-src 'self' data:; connect-src 'self' ws: wss:; worker-src 'self' blob:; "
       "frame-src 'self'; frame-ancestors 'none'; object-src 'none'; base-uri 'self'; form-action 'self'")
HEADERS = [(b"content-security-policy", CSP.encode()), (b"x-frame-options", b"DENY"),
           (b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer"),
           (b"permissions-policy", b"camera=(), microphone=(), geolocation=()")]
PRIVATE = ("/_stcore/metrics",)  # session counts and cache sizes: for the operator, not the public


class SecurityHeaders:
    """ASGI middleware: add HEADERS to HTTP responses (websockets pass through) and answer 404 for PRIVATE."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if scope["path"].rstrip("/").endswith(PRIVATE):
            await send({"type": "http.response.start", "status": 404,
                        "headers": [(b"content-type", b"text/plain"), *HEADERS]})
            return await send({"type": "http.response.body", "body": b"Not found"})

        async def with_headers(message):
            if message["type"] == "http.response.start":
                names = {name.lower() for name, _ in message.get("headers", [])}
                message = {**message, "headers": [*message.get("headers", []),
                                                  *[(k, v) for k, v in HEADERS if k not in names]]}
            await send(message)

        await self.app(scope, receive, with_headers)
