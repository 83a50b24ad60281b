"""The API's one error shape, the handlers that produce it, and its documentation in the OpenAPI document.

Every 4xx and 5xx JSON answer of the API is

    {"detail": "<what went wrong, in English>", "code": "<snake_case machine code>", ...}

plus `errors: [{"loc": [...], "msg": "...", "type": "..."}]` for validation failures (422 `validation_error`)
and optional fields of structured context (e.g. `"at"`, the time an alarm was taken). Pages translate by
`code` and fall back to `detail`. Views raise `HTTPException` (the code then follows from the status) or a
`DomainError` (status and code of its own); nothing else reaches a client as anything but this shape: a
database refusal of client input is a 4xx here as a last resort, and an unexpected exception is a 500
`internal_error` that names no internals (the traceback goes to the log).
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl

import fastapi.routing
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError, ResponseValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from eldercare_common.logging import get_logger

log = get_logger(__name__)

ERROR_SCHEMA_REF = "#/components/schemas/ErrorResponse"

STATUS_CODES: dict[int, str] = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "too_many_requests",
    500: "internal_error",
    503: "unavailable",
}
"""The code an `HTTPException` gets from its status alone."""


class ErrorItem(BaseModel):
    """One reason a request failed validation."""

    loc: list[str | int] = Field(description="Where: `body`, `query`, `path`, `header`, then field names/indexes")
    msg: str = Field(description="What is wrong with the value, in English")
    type: str = Field(description="Machine-readable kind of problem, e.g. `missing`, `less_than_equal`")


class ErrorResponse(BaseModel):
    """The body of every error answer (4xx and 5xx) of the API."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={"description": "Extra fields carry structured context, e.g. `at` (ISO 8601 UTC)"},
    )

    detail: str = Field(description="Human-readable message (English); pages show their own text by `code`")
    code: str = Field(pattern=r"^[a-z][a-z0-9_]*$", description="Stable machine code, snake_case")
    errors: list[ErrorItem] | SkipJsonSchema[None] = Field(
        default=None, description="Only for validation failures (422 `validation_error`): every reason"
    )


class DomainError(Exception):
    """A refusal the client can act on: a status, a stable code, a message, optional structured context.

    Subclasses set `status` and `code`; an instance may override the code and add context fields, which
    appear beside `detail` and `code` in the body (`at`, `by`, ...; JSON-serializable values only).
    """

    status: int = 400
    code: str = "bad_request"

    def __init__(self, detail: str, *, code: str | None = None, status: int | None = None, **context: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.context = context


class NotFoundError(DomainError):
    """The resource named in the path does not exist (or is outside the user's scope)."""

    status = 404
    code = "not_found"


class ConflictError(DomainError):
    """The request clashes with the resource's current state (taken, already done, duplicate)."""

    status = 409
    code = "conflict"


class UnprocessableError(DomainError):
    """The request is well-formed but breaks a rule or names something that does not exist."""

    status = 422
    code = "unprocessable"


KNOWN_CONSTRAINTS: dict[str, tuple[int, str, str]] = {}
"""Constraint name -> (status, code, detail): what a refusal by that constraint means to a client.

Domains declare theirs with `known_constraints` beside the service that writes the table; the one handler
answers with it when a race slips past the service's own checks. Nothing else parses a database refusal."""


def known_constraints(**refusals: tuple[int, str, str]) -> None:
    """Declare what a refusal by each named constraint means (`device_serial_key=(409, "serial_taken", ...)`)."""
    KNOWN_CONSTRAINTS.update(refusals)


def error_body(detail: str, code: str, **extra: Any) -> dict[str, Any]:
    """The one error shape as a dict."""
    return {"detail": detail, "code": code, **extra}


def error_response(
    status: int, detail: str, code: str, *, headers: Mapping[str, str] | None = None, **extra: Any
) -> JSONResponse:
    """A JSON response in the one error shape."""
    return JSONResponse(error_body(detail, code, **extra), status_code=status, headers=dict(headers or {}))


def _validation_items(errors: Sequence[Any]) -> list[dict[str, Any]]:
    """Pydantic's errors without `input`/`ctx`/`url`: the input may be a password, the context is not JSON."""
    items = []
    for error in errors:
        loc = [part if isinstance(part, int) else str(part) for part in error.get("loc", ())]
        items.append({"loc": loc, "msg": str(error.get("msg", "")), "type": str(error.get("type", ""))})
    return items


def _summary(items: list[dict[str, Any]]) -> str:
    if not items:
        return "the request is invalid"
    first = items[0]
    where = ".".join(str(part) for part in first["loc"]) or "request"
    more = f" (and {len(items) - 1} more)" if len(items) > 1 else ""
    return f"invalid request: {where}: {first['msg']}{more}"


async def _http_exception(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    status = exc.status_code
    code = STATUS_CODES.get(status, f"http_{status}")
    detail: Any = exc.detail
    extra: dict[str, Any] = {}
    if isinstance(detail, Mapping):  # HTTPException(detail={"detail": ..., "code": ..., ...}) picks its code
        extra = {k: v for k, v in detail.items() if k not in ("detail", "code")}
        code = str(detail.get("code", code))
        detail = detail.get("detail", HTTPStatus(status).phrase)
    elif not isinstance(detail, str):
        detail = HTTPStatus(status).phrase if detail is None else str(detail)
    return error_response(status, detail, code, headers=exc.headers, **extra)


async def _domain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    return error_response(exc.status, exc.detail, exc.code, **exc.context)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    items = _validation_items(exc.errors())
    return error_response(422, _summary(items), "validation_error", errors=items)


def _sqlstate(exc: DataError | IntegrityError) -> str:
    return str(getattr(exc.orig, "sqlstate", None) or "")


_MISSING_KEY = re.compile(r'Key \((?P<column>[^)]+)\)=\((?P<value>.*)\) is not present in table "(?P<table>[^"]+)"')


def constraint_refusal(exc: IntegrityError, known: Mapping[str, tuple[int, str, str]] | None = None) -> DomainError:
    """What a constraint's refusal of a client's change means to the client.

    `known` maps constraint names to (status, code, detail) (the handler passes `KNOWN_CONSTRAINTS`); otherwise a
    foreign key names a row that does not exist (422 `unknown_reference`, with `field`), a unique key a
    duplicate (409 `duplicate`), anything else a conflict with the stored data (409 `conflict`).
    """
    diag = getattr(exc.orig, "diag", None)
    constraint = str(getattr(diag, "constraint_name", None) or "")
    if known and constraint in known:
        status, code, detail = known[constraint]
        return DomainError(detail, code=code, status=status)
    state = _sqlstate(exc)
    if state == "23503":  # foreign_key_violation
        # The column from the constraint's default name (`<table>_<column>_fkey`), whatever the server's
        # language; the value only from an English message.
        table = str(getattr(diag, "table_name", None) or "")
        column = None
        if table and constraint.startswith(f"{table}_") and constraint.endswith("_fkey"):
            column = constraint[len(table) + 1 : -len("_fkey")]
        found = _MISSING_KEY.search(str(getattr(diag, "message_detail", None) or ""))
        if found:
            return UnprocessableError(
                f"{found['column']} {found['value']} does not exist", code="unknown_reference", field=found["column"]
            )
        if column:
            return UnprocessableError(f"{column} names nothing that exists", code="unknown_reference", field=column)
        return UnprocessableError("the request refers to something that does not exist", code="unknown_reference")
    if state == "23505":  # unique_violation
        return ConflictError("this already exists", code="duplicate")
    return ConflictError("the change conflicts with the stored data", code="conflict")


async def _data_error(request: Request, exc: Exception) -> JSONResponse:
    """Last resort: PostgreSQL refused a value (out of range, bad text) that validation let through."""
    assert isinstance(exc, DataError)
    log.warning("database refused a request value", path=request.url.path, sqlstate=_sqlstate(exc), error=str(exc.orig))
    return error_response(422, "a value in the request is out of range or not valid here", "invalid_value")


async def _integrity_error(request: Request, exc: Exception) -> JSONResponse:
    """Last resort: a constraint refused the change (services check what they can first, with better codes;
    a race past those checks is answered by the constraint's declared meaning, `KNOWN_CONSTRAINTS`)."""
    assert isinstance(exc, IntegrityError)
    log.warning(
        "database constraint refused a request", path=request.url.path, sqlstate=_sqlstate(exc), error=str(exc.orig)
    )
    return await _domain_error(request, constraint_refusal(exc, KNOWN_CONSTRAINTS))


async def _busy(request: Request, exc: Exception) -> JSONResponse:
    return error_response(503, "the platform is busy; retry in a moment", "busy", headers={"Retry-After": "2"})


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    """A bug: 500 in the one shape, the traceback in the log only."""
    log.error("unhandled error", path=request.url.path, method=request.method, exc_info=exc)
    return error_response(500, "internal server error; it has been logged", "internal_error")


# --- NUL characters ------------------------------------------------------------------------------

NUL = "\x00"
MAX_BODY_BYTES = 1 << 20  # no request of this API needs more; a bigger body is refused before it is held in memory


def _nul_in(value: Any, loc: list[str | int]) -> list[str | int] | None:
    """Where the first NUL in a decoded JSON value is (keys count too), or None."""
    if isinstance(value, str):
        return loc if NUL in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            if NUL in key:
                return [*loc, key.replace(NUL, "\\u0000")]
            found = _nul_in(item, [*loc, key])
            if found is not None:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = _nul_in(item, [*loc, index])
            if found is not None:
                return found
    return None


def _nul_in_pairs(pairs: list[tuple[str, str]], where: str) -> list[str | int] | None:
    for key, value in pairs:
        if NUL in key or NUL in value:
            return [where, key.replace(NUL, "\\u0000")]
    return None


def _nul_in_body(content_type: str, body: bytes) -> list[str | int] | None:
    if content_type.startswith("application/x-www-form-urlencoded"):
        if b"\x00" in body or b"%00" in body.lower():
            return _nul_in_pairs(parse_qsl(body.decode("latin-1"), keep_blank_values=True), "body") or ["body"]
        return None
    if b"\\u0000" not in body:  # the only way JSON spells NUL (a raw NUL byte is not JSON at all)
        return None
    try:
        decoded = json.loads(body)
    except ValueError:
        return None  # not JSON: the route's own parsing answers it
    return _nul_in(decoded, ["body"])


class RefuseNulMiddleware:
    """Refuse (422 `nul_character`) any request whose path, query or body text contains a NUL character.

    NUL is never typed by a person; PostgreSQL cannot store it in `text` or `jsonb`, so left alone it
    would surface as a 500. One rule here covers every route instead of a validator on every field.
    """

    def __init__(self, app: ASGIApp, multipart_max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.multipart_max_bytes = max(multipart_max_bytes, MAX_BODY_BYTES)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        loc: list[str | int] | None = None
        if NUL in scope.get("path", ""):
            loc = ["path"]
        query: bytes = scope.get("query_string", b"")
        if loc is None and (b"%00" in query.lower() or b"\x00" in query):
            loc = _nul_in_pairs(parse_qsl(query.decode("latin-1"), keep_blank_values=True), "query") or ["query"]
        if loc is None and scope.get("method") in ("POST", "PUT", "PATCH", "DELETE"):
            headers = dict(scope.get("headers") or [])
            content_type = headers.get(b"content-type", b"").decode("latin-1").lower()
            upload = content_type.startswith("multipart/form-data")  # a photo: binary, its own size rule
            limit = self.multipart_max_bytes if upload else MAX_BODY_BYTES
            buffered = await _buffered(receive, limit)
            if buffered is None:
                too_big = error_response(413, f"request body over {limit} bytes", "payload_too_large", limit=limit)
                await too_big(scope, receive, send)
                return
            body, receive = buffered
            loc = None if upload else _nul_in_body(content_type, body)
        if loc is None:
            await self.app(scope, receive, send)
            return
        items = [{"loc": loc, "msg": "Text must not contain NUL (\\u0000) characters", "type": "nul_character"}]
        response = error_response(422, _summary(items), "nul_character", errors=items)
        await response(scope, receive, send)


async def _buffered(receive: Receive, limit: int = MAX_BODY_BYTES) -> tuple[bytes, Receive] | None:
    """Read the whole request body; return it and a `receive` that replays it (None: over `limit` bytes)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            pending: list[Message] = [message]
            break
        chunks.append(message.get("body", b""))
        size += len(chunks[-1])
        if size > limit:
            return None
        if not message.get("more_body", False):
            pending = []
            break
    body = b"".join(chunks)
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}
        if pending:
            return pending.pop()
        return await receive()

    return body, replay


# --- OpenAPI -------------------------------------------------------------------------------------

_DESCRIPTIONS: dict[int, str] = {
    400: "Malformed request body (`bad_request`)",
    401: "Not signed in, or the token expired (`not_authenticated`)",
    403: "The user's role may not do this (`forbidden`)",
    404: "Not found, or outside the user's scope",
    409: "Conflicts with the current state",
    413: "The request body is over 1 MiB, a photo upload over its limit (`payload_too_large`)",
    422: "Invalid request (`validation_error`, with `errors`; `nul_character`) or a broken rule",
    500: "A bug (`internal_error`); the details are in the server log",
    503: "The database is busy (`busy`, with Retry-After) or unreachable",
}


def errors(*statuses: int, **descriptions: str) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route: these statuses answer with `ErrorResponse`.

    `errors(404, 409)`; a description per status with `errors(404, s404="alarm_not_found")`.
    """
    return {
        status: {
            "description": descriptions.get(f"s{status}", _DESCRIPTIONS.get(status, HTTPStatus(status).phrase)),
            "content": {"application/json": {"schema": {"$ref": ERROR_SCHEMA_REF}}},
        }
        for status in statuses
    }


def _dependency_calls(route: APIRoute) -> set[Any]:
    calls: set[Any] = set()
    stack = [route.dependant]
    while stack:
        dependant = stack.pop()
        if dependant.call is not None:
            calls.add(dependant.call)
        stack.extend(dependant.dependencies)
    return calls


def _default_statuses(route: APIRoute) -> set[int]:
    """The error statuses every route of this kind can answer, besides those its view declares."""
    from eldercare_platform.core.deps import get_current_user

    statuses = {500, 503}
    calls = _dependency_calls(route)
    if get_current_user in calls:
        statuses.add(401)
    if any(getattr(call, "refuses_roles", False) for call in calls):
        statuses.add(403)
    if route.body_field is not None:
        statuses.update({400, 422})
    if (route.methods or set()) & {"POST", "PUT", "PATCH", "DELETE"}:
        statuses.add(413)  # RefuseNulMiddleware reads every such body, and refuses one over MAX_BODY_BYTES
    if route.dependant.path_params or route.dependant.query_params or route.dependant.header_params:
        statuses.add(422)
    return statuses


def _error_schemas() -> dict[str, Any]:
    schema = ErrorResponse.model_json_schema(ref_template="#/components/schemas/{model}", mode="serialization")
    definitions: dict[str, Any] = schema.pop("$defs", {})
    return {**definitions, "ErrorResponse": schema}


def _api_routes(app: FastAPI) -> Iterator[tuple[str, APIRoute]]:
    """Every APIRoute of the app with its full path (routers included in routers flattened)."""
    iterate = getattr(fastapi.routing, "iter_route_contexts", None)
    if iterate is None:  # FastAPI before the route contexts: included routes are copied into app.routes
        for route in app.routes:
            if isinstance(route, APIRoute):
                yield route.path_format, route
        return
    for context in iterate(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute) and context.path_format:
            yield context.path_format, route


def _add_error_responses(app: FastAPI, document: dict[str, Any]) -> None:
    error_ref = {"application/json": {"schema": {"$ref": ERROR_SCHEMA_REF}}}
    for path, route in _api_routes(app):
        for method in route.methods or ():
            operation = document["paths"].get(path, {}).get(method.lower())
            if operation is None:
                continue
            responses = operation.setdefault("responses", {})
            for status in sorted(_default_statuses(route)):
                responses.setdefault(str(status), {"description": _DESCRIPTIONS[status]})
            for status, response in responses.items():
                if status.isdigit() and int(status) >= 400 and (status == "422" or "content" not in response):
                    response["content"] = error_ref
                    if response.get("description") == "Validation Error":  # FastAPI's default 422
                        response["description"] = _DESCRIPTIONS[422]
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    schemas.update(_error_schemas())


def document_errors(app: FastAPI) -> None:
    """Make `app.openapi()` list, for every operation, each error status it can answer, as `ErrorResponse`.

    FastAPI's own 422 schema (`HTTPValidationError`, `detail` an array) is replaced: it is not what
    the API sends.
    """

    generate = app.openapi
    documented: list[dict[str, Any]] = []

    def openapi() -> dict[str, Any]:
        document = generate()  # FastAPI's own, cached until the routes change
        if not documented or documented[0] is not document:
            _add_error_responses(app, document)
            documented[:] = [document]
        return document

    app.openapi = openapi  # type: ignore[method-assign]


ExceptionHandler = Callable[[Request, Exception], Awaitable[JSONResponse]]


def install_error_handling(app: FastAPI, *, multipart_max_bytes: int = MAX_BODY_BYTES) -> None:
    """Register the handlers, the NUL rule and the OpenAPI documentation on `app` (a multipart upload may be up to
    `multipart_max_bytes`; every other body up to `MAX_BODY_BYTES`)."""
    handlers: list[tuple[type[Exception], ExceptionHandler]] = [
        (StarletteHTTPException, _http_exception),
        (RequestValidationError, _validation_error),
        (DomainError, _domain_error),
        (DataError, _data_error),
        (IntegrityError, _integrity_error),
        (PoolTimeoutError, _busy),
        (ResponseValidationError, _unexpected),
        (Exception, _unexpected),
    ]
    for exception, handler in handlers:
        app.add_exception_handler(exception, handler)
    app.add_middleware(RefuseNulMiddleware, multipart_max_bytes=multipart_max_bytes)
    document_errors(app)
