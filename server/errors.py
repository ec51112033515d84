"""Errors a user can read, in zh-CN first and English second, mapped to HTTP in one place."""

from __future__ import annotations

import logging

from litestar import Request, Response
from litestar.exceptions import HTTPException, NotFoundException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

log = logging.getLogger("doorpass")


class DomainError(Exception):
    """A refusal with a stable code and a message for people."""

    status_code = 400
    code = "bad_request"

    def __init__(self, message: str, message_en: str, *, code: str | None = None, status_code: int | None = None):
        super().__init__(message_en)
        self.message = message
        self.message_en = message_en
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


def _body(code: str, message: str, message_en: str, detail: object = None) -> dict:
    body: dict = {"error": code, "message": message, "message_en": message_en}
    if detail:
        body["detail"] = detail
    return body


def domain_error_handler(_: Request, exc: DomainError) -> Response:
    return Response(_body(exc.code, exc.message, exc.message_en), status_code=exc.status_code)


def validation_handler(_: Request, exc: ValidationException) -> Response:
    detail = exc.extra if isinstance(exc.extra, list) else None
    return Response(
        _body(
            "invalid_request",
            f"请求内容有误：{exc.detail}",
            f"The request is not valid: {exc.detail}",
            detail,
        ),
        status_code=400,
    )


def not_found_handler(_: Request, exc: NotFoundException) -> Response:
    return Response(_body("not_found", "找不到这个地址", "Nothing here"), status_code=404)


def http_handler(_: Request, exc: HTTPException) -> Response:
    if exc.status_code >= 500:
        log.error("http %s: %s", exc.status_code, exc.detail)
        return Response(_body("server_error", "服务器出错，请稍后再试", "Server error, please try again later"), status_code=exc.status_code)
    return Response(
        _body("http_error", f"请求无法处理：{exc.detail}", f"Request refused: {exc.detail}"), status_code=exc.status_code
    )


def internal_handler(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return Response(
        _body("server_error", "服务器出错，请稍后再试", "Server error, please try again later"),
        status_code=HTTP_500_INTERNAL_SERVER_ERROR,
    )


EXCEPTION_HANDLERS = {
    DomainError: domain_error_handler,
    ValidationException: validation_handler,
    NotFoundException: not_found_handler,
    HTTPException: http_handler,
    Exception: internal_handler,
}
