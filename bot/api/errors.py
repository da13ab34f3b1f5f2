"""Every error leaves the API as `{"error": {"code", "message"}}` with the right status."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from bot.domain.errors import ParleyError, TooManyAttempts

log = logging.getLogger(__name__)


def error_response(status: int, code: str, message: str) -> JSONResponse:
    """The one error shape of the HTTP contract."""
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


async def _parley_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, ParleyError)
    response = error_response(error.status, error.code, error.message)
    if isinstance(error, TooManyAttempts):
        response.headers["Retry-After"] = str(error.retry_after_s)
    return response


async def _http_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, HTTPException)
    code = {404: "not_found", 405: "method_not_allowed", 401: "unauthorized"}.get(
        error.status_code, "http_error"
    )
    return error_response(error.status_code, code, str(error.detail))


async def _validation_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    problems = [
        f"{'.'.join(str(part) for part in item['loc'])}: {item['msg']}" for item in error.errors()
    ]
    return error_response(422, "invalid_request", "; ".join(problems))


async def _unexpected(_request: Request, error: Exception) -> JSONResponse:
    log.exception("unhandled error", exc_info=error)
    return error_response(500, "internal", "internal error; see the server log for this request id")


def install_error_handlers(app: FastAPI) -> None:
    """Map typed errors, HTTP errors, validation errors and crashes to the error shape."""
    app.add_exception_handler(ParleyError, _parley_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _unexpected)
