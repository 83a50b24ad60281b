"""The API's interactive docs (Swagger UI at /api/docs, ReDoc at /api/redoc), served from our own origin.

Intranets of a call center are often offline, so nothing here comes from a CDN: Swagger UI and ReDoc
are npm packages pinned in `web/package.json` + `web/package-lock.json`, installed into
`web/node_modules` by `scripts/bootstrap.sh` (and by the Dockerfile's web stage), and mounted under
`/api/docs/assets/`. Without them the two pages answer 503 with the command that installs them,
instead of a blank page.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from eldercare_common.logging import get_logger

log = get_logger(__name__)

DOCS_URL = "/api/docs"
REDOC_URL = "/api/redoc"
OAUTH2_REDIRECT_URL = "/api/docs/oauth2-redirect"
ASSETS_URL = "/api/docs/assets"
SWAGGER_UI_PACKAGE = "swagger-ui-dist"
REDOC_BUNDLES = ("redoc", "bundles")
# ReDoc's side menu shows a "by Redocly" logo from cdn.redoc.ly (and hides it when it fails to load): the
# policy stops the browser from even asking, so the pages request nothing outside our origin.
IMAGES_FROM_OUR_ORIGIN = {"Content-Security-Policy": "img-src 'self' data:"}
MISSING_HINT = (
    "The API docs' JavaScript (npm packages swagger-ui-dist and redoc) is not installed in {folder}: "
    "run `bash scripts/bootstrap.sh` (it runs `npm ci` in web/), or set ELDERCARE_WEB_VENDOR_DIR."
)


def vendor_asset_dirs(vendor_dir: Path) -> dict[str, Path]:
    """The asset folders the docs pages need, by mount name: swagger-ui and redoc."""
    return {"swagger-ui": vendor_dir / SWAGGER_UI_PACKAGE, "redoc": vendor_dir.joinpath(*REDOC_BUNDLES)}


def missing_assets(vendor_dir: Path) -> list[str]:
    """Which of the files the docs pages load are absent (empty when all are installed)."""
    dirs = vendor_asset_dirs(vendor_dir)
    needed = [
        dirs["swagger-ui"] / "swagger-ui-bundle.js",
        dirs["swagger-ui"] / "swagger-ui.css",
        dirs["redoc"] / "redoc.standalone.js",
    ]
    return [str(path) for path in needed if not path.is_file()]


def add_api_docs(app: FastAPI, *, vendor_dir: Path, openapi_url: str) -> None:
    """Mount the vendored assets and add the Swagger UI, OAuth2 redirect and ReDoc pages.

    Build the app with `docs_url=None, redoc_url=None` so FastAPI's CDN-backed pages are not added.
    """
    missing = missing_assets(vendor_dir)
    if missing:
        log.warning("api docs assets missing", missing=missing, hint=MISSING_HINT.format(folder=vendor_dir))
    else:
        for name, directory in vendor_asset_dirs(vendor_dir).items():
            app.mount(f"{ASSETS_URL}/{name}", StaticFiles(directory=directory), name=f"api-docs-{name}")
    title = app.title

    def unavailable() -> HTMLResponse:
        message = MISSING_HINT.format(folder=vendor_dir)
        return HTMLResponse(f"<!doctype html><title>{title}</title><p>{message}</p>", status_code=503)

    @app.get(DOCS_URL, include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        if missing:
            return unavailable()
        page = get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{title} — Swagger UI",
            swagger_js_url=f"{ASSETS_URL}/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_URL}/swagger-ui/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS_URL}/swagger-ui/favicon-32x32.png",
            oauth2_redirect_url=OAUTH2_REDIRECT_URL,
            # No badge from validator.swagger.io: the page must not reach outside the intranet.
            swagger_ui_parameters={"validatorUrl": None},
        )
        page.headers.update(IMAGES_FROM_OUR_ORIGIN)
        return page

    @app.get(OAUTH2_REDIRECT_URL, include_in_schema=False)
    def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get(REDOC_URL, include_in_schema=False)
    def redoc() -> HTMLResponse:
        if missing:
            return unavailable()
        page = get_redoc_html(
            openapi_url=openapi_url,
            title=f"{title} — ReDoc",
            redoc_js_url=f"{ASSETS_URL}/redoc/redoc.standalone.js",
            redoc_favicon_url=f"{ASSETS_URL}/swagger-ui/favicon-32x32.png",
            with_google_fonts=False,
        )
        page.headers.update(IMAGES_FROM_OUR_ORIGIN)
        return page
