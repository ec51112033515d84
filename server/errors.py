"""Errors a user can read, in zh-CN first and English second, mapped to HTTP in one place."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, NotFoundException, ValidationException
from litestar.exceptions.http_exceptions import RequestEntityTooLarge
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from redis.exceptions import RedisError
from sqlalchemy.exc import DBAPIError

if TYPE_CHECKING:
    from litestar import Litestar

log = logging.getLogger("doorpass")


class ErrorBody(msgspec.Struct, kw_only=True, omit_defaults=True):
    """What every refusal and failure carries, whatever its status."""

    error: str
    """A stable code a program can act on: invalid_request, not_found, unauthorized, rate_limited, server_error, ..."""
    message: str
    """For people, in zh-CN."""
    message_en: str
    """For people, in English."""
    detail: list[dict[str, Any]] | None = None
    """When a request was not valid: what was wrong, field by field. For `device_clock`: `[{"server_time": n}]`."""


class DomainError(Exception):
    """A refusal with a stable code and a message for people."""

    status_code = 400
    code = "bad_request"

    def __init__(self, message: str, message_en: str, *, code: str | None = None, status_code: int | None = None,
                 headers: dict[str, str] | None = None, detail: list[dict[str, Any]] | None = None):
        super().__init__(message_en)
        self.message = message
        self.message_en = message_en
        self.headers = headers or {}
        self.detail = detail
        if code:
            self.code = code
        if status_code:
            self.status_code = status_code


class NotFound(DomainError):
    status_code = 404
    code = "not_found"


class Conflict(DomainError):
    status_code = 409
    code = "conflict"


class Gone(DomainError):
    status_code = 410
    code = "gone"


class Unauthorized(DomainError):
    status_code = 401
    code = "unauthorized"


class Forbidden(DomainError):
    status_code = 403
    code = "forbidden"


class TooManyRequests(DomainError):
    """Refused for now: `Retry-After` says in how many seconds to try again."""

    status_code = 429
    code = "rate_limited"

    def __init__(self, message: str, message_en: str, *, retry_after: int, code: str | None = None):
        super().__init__(message, message_en, code=code, headers={"Retry-After": str(max(1, int(retry_after)))})
        self.retry_after = max(1, int(retry_after))


def _body(code: str, message: str, message_en: str, detail: object = None) -> dict:
    body: dict = {"error": code, "message": message, "message_en": message_en}
    if detail:
        body["detail"] = detail
    return body


def domain_error_handler(_: Request, exc: DomainError) -> Response:
    return Response(_body(exc.code, exc.message, exc.message_en, exc.detail), status_code=exc.status_code, headers=exc.headers)


def validation_handler(_: Request, exc: ValidationException) -> Response:
    detail = exc.extra if isinstance(exc.extra, list) else None
    # Name the fields that failed ("serial: Expected `int` <= 9007199254740991"), not the whole URL.
    what = "; ".join(f"{d.get('key')}: {d.get('message')}" for d in detail or () if isinstance(d, dict)) or exc.detail
    return Response(
        _body("invalid_request", f"请求内容有误：{what}", f"The request is not valid: {what}", detail),
        status_code=400,
    )


def not_found_handler(_: Request, exc: NotFoundException) -> Response:
    return Response(_body("not_found", "找不到这个地址", "Nothing here"), status_code=404)


def http_handler(_: Request, exc: HTTPException) -> Response:
    if exc.status_code >= 500:
        log.error("http %s: %s", exc.status_code, exc.detail)
        return Response(_body("server_error", "服务器出错，请稍后再试", "Server error, please try again later"), status_code=exc.status_code)
    code = "invalid_request" if exc.status_code == 400 else "http_error"  # e.g. a body that is not JSON at all
    return Response(
        _body(code, f"请求无法处理：{exc.detail}", f"Request refused: {exc.detail}"), status_code=exc.status_code
    )


def too_large_handler(request: Request, exc: RequestEntityTooLarge) -> Response:
    """A body over its route's limit (`server.body_limits`): refused before it is read, saying the limit."""
    from server.body_limits import DEFAULT, size_text

    try:
        limit = request.route_handler.resolve_request_max_body_size() or DEFAULT
    except Exception:
        limit = DEFAULT
    size = size_text(limit)
    return Response(
        _body("too_large", f"请求内容太大（上限 {size}）", f"The request body is too large (at most {size})"),
        status_code=413,
    )


def internal_handler(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return Response(
        _body("server_error", "服务器出错，请稍后再试", "Server error, please try again later"),
        status_code=HTTP_500_INTERNAL_SERVER_ERROR,
    )


def store_down_handler(request: Request, exc: Exception) -> Response:
    """The shared rate-limit store (Redis) does not answer: a clear 503 to retry, not a 500."""
    log.error("the rate-limit store does not answer (%s) on %s %s", type(exc).__name__, request.method, request.url.path)
    return Response(_body("unavailable", "服务暂时不可用，请稍后再试", "The service is briefly unavailable; please try again"),
                    status_code=503, headers={"Retry-After": "5"})


def database_gone_handler(request: Request, exc: DBAPIError) -> Response:
    """The database connection was lost under the request (failover, restart, connection ended): the transaction was
    rolled back, so a 503 to retry (a resent push answers `duplicate` if the commit did happen), not a 500. Any other
    database error stays a 500."""
    if not exc.connection_invalidated:
        return internal_handler(request, exc)
    log.error("the database connection was lost (%s) on %s %s", type(exc.orig).__name__, request.method, request.url.path)
    return Response(_body("unavailable", "服务暂时不可用，请稍后再试", "The service is briefly unavailable; please try again"),
                    status_code=503, headers={"Retry-After": "1"})


EXCEPTION_HANDLERS = {
    RedisError: store_down_handler,
    DBAPIError: database_gone_handler,
    DomainError: domain_error_handler,
    ValidationException: validation_handler,
    NotFoundException: not_found_handler,
    RequestEntityTooLarge: too_large_handler,
    HTTPException: http_handler,
    Exception: internal_handler,
}


def document_errors(app: Litestar) -> None:
    """Declare `ErrorBody` in the OpenAPI for the errors each operation can answer, instead of Litestar's own shape.

    400 where the operation takes input, 401 and 403 where a guard stands, 404 where the path names something, 500
    everywhere, and `default` for every other status (409, 410, 413, 429, ...): each carries an `ErrorBody`.
    """
    from litestar.handlers import HTTPRouteHandler
    from litestar.openapi.datastructures import ResponseSpec

    def spec(description: str) -> ResponseSpec:
        return ResponseSpec(data_container=ErrorBody, description=description, generate_examples=False)

    for route in app.routes:
        for handler in getattr(route, "route_handlers", ()):
            if not isinstance(handler, HTTPRouteHandler) or not handler.resolve_include_in_schema():
                continue
            reserved = {"request", "state", "scope", "headers", "cookies", "query", "socket", *handler.resolve_dependencies()}
            takes_input = any(name not in reserved for name in handler.parsed_fn_signature.parameters)
            errors: dict[int | str, ResponseSpec] = {}
            if takes_input:
                errors[400] = spec("The request is not valid")
            if handler.resolve_guards():
                errors[401] = spec("Not signed in")
                errors[403] = spec("Not allowed")
            if getattr(route, "path_parameters", None):
                errors[404] = spec("Not found")
            errors[500] = spec("Server error")
            errors["default"] = spec("Any other refusal (conflict, gone, too large, too many requests, ...)")
            # Litestar types the keys as status codes; "default" is OpenAPI's key for every other status.
            handler.responses = {**errors, **(handler.responses or {})}  # type: ignore[dict-item]
