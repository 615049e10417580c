"""The web page of the reference agent: static files served by the agent server itself.

No build step: `index.html`, `app.js`, `style.css` and `favicon.svg` sit beside this module and
are served as they are, at `/` and `/web/<name>`. Only those names are served (an allow-list, so
this package's own Python files never leak), each with a Content-Security-Policy that admits
scripts, styles and connections from this origin only: no inline script, no eval, no plugins, no
framing, and Trusted Types required, so a stray `innerHTML = string` throws instead of parsing.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, HTTPException
from fastapi.responses import FileResponse

__all__ = ["CONTENT_SECURITY_POLICY", "WEB_DIR", "mount_web"]

WEB_DIR = Path(__file__).resolve().parent

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
        "require-trusted-types-for 'script'",
        "trusted-types 'none'",
    ]
)

_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    # The page and its scripts change with the server, never by URL: always revalidate.
    "Cache-Control": "no-cache",
}

_ASSETS: dict[str, str] = {
    "index.html": "text/html; charset=utf-8",
    "app.js": "text/javascript; charset=utf-8",
    "style.css": "text/css; charset=utf-8",
    "favicon.svg": "image/svg+xml",
}


def _asset(name: str) -> FileResponse:
    media_type = _ASSETS.get(name)
    if media_type is None:
        raise HTTPException(status_code=404, detail=f"no web asset {name!r}")
    return FileResponse(WEB_DIR / name, media_type=media_type, headers=_HEADERS)


def mount_web(app: FastAPI) -> None:
    """Serve the page at `/` and its assets at `/web/<name>` (kept out of the OpenAPI doc)."""

    async def index() -> FileResponse:
        return _asset("index.html")

    async def asset(name: str) -> FileResponse:
        return _asset(name)

    app.add_api_route("/", index, methods=["GET"], include_in_schema=False)
    app.add_api_route("/web/{name}", asset, methods=["GET"], include_in_schema=False)
