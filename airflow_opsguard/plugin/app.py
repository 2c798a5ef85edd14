"""The FastAPI app that Airflow's API server mounts under ``/opsguard``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, HTTPException, Request, Response, status
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from airflow_opsguard.errors import StoreError
from airflow_opsguard.plugin import api, pages

STATIC = Path(__file__).with_name("static")
# Our pages load only our own stylesheet and one script of ours (theme.js: Airflow's
# colour mode); nothing inline, nothing from elsewhere; only Airflow may frame them.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; "
    "frame-ancestors 'self'; base-uri 'none'"
)
_PAGE_ERRORS = {403: "You may not see this", 404: "Not found"}


def create_app() -> FastAPI:
    """The dashboard pages, the JSON API (``/api/v1``) and its OpenAPI document."""
    app = FastAPI(
        title="airflow-opsguard",
        summary="Data quality verdicts, incidents and quarantine of airflow-opsguard gates.",
        version="1",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,  # served at /api/v1/openapi.json, to signed-in users only
    )
    app.include_router(api.router)
    app.include_router(api.openapi_route(app.openapi))
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_exception_handler(HTTPException, _http_error)  # type: ignore[arg-type]
    app.add_exception_handler(StoreError, _store_error)  # type: ignore[arg-type]
    app.middleware("http")(_security_headers)
    return app


async def _http_error(request: Request, exc: HTTPException) -> Response:
    """A page without a valid sign-in sends the browser to Airflow's login."""
    if exc.status_code == status.HTTP_401_UNAUTHORIZED and _is_page(request):
        root = request.scope.get("root_path", "").rstrip("/")
        airflow = root.rsplit("/", 1)[0] if root.endswith("/opsguard") else ""
        back = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"{airflow}/auth/login?next={quote(back)}", status_code=303)
    if _is_page(request) and exc.status_code in _PAGE_ERRORS:
        return pages.templates.TemplateResponse(
            request,
            "error.html",
            {
                "root": request.scope.get("root_path", "").rstrip("/"),
                "status_code": exc.status_code,
                "title": _PAGE_ERRORS[exc.status_code],
                "detail": str(exc.detail),
            },
            status_code=exc.status_code,
        )
    return await http_exception_handler(request, exc)


async def _store_error(request: Request, exc: StoreError) -> Response:
    return JSONResponse({"detail": str(exc)}, status_code=status.HTTP_503_SERVICE_UNAVAILABLE)


def _is_page(request: Request) -> bool:
    root = request.scope.get("root_path", "")
    path = request.url.path.removeprefix(root)
    return request.method == "GET" and not path.startswith(("/api/", "/static/"))


async def _security_headers(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    response = await call_next(request)
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if request.method == "GET" and not request.url.path.endswith(".css"):
        response.headers.setdefault("Cache-Control", "no-store")
    return response
