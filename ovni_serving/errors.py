"""Exception handlers: every error is JSON with a `detail` a person can read; bad input is always a 4xx."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

logger = logging.getLogger("ovni_serving")


def _where(location: tuple) -> str:
    parts = [str(part) for part in location if part not in ("body",)]
    return ".".join(parts) or "body"


def describe_validation_error(error: RequestValidationError) -> str:
    """`pairs.0.customer_id: Input should be a valid integer; ...` — one line per problem, at most five."""
    problems = []
    for item in error.errors()[:5]:
        if item.get("type") == "json_invalid":
            problems.append("the body is not valid JSON")
            continue
        problems.append(f"{_where(tuple(item.get('loc', ())))}: {item.get('msg', 'invalid value')}")
    more = len(error.errors()) - len(problems)
    return "; ".join(problems) + (f"; and {more} more" if more > 0 else "")


async def _validation_error(request: Request, error: RequestValidationError) -> JSONResponse:
    return JSONResponse(status_code=422, content={"detail": describe_validation_error(error)})


BODY_PARSE_ERROR = "There was an error parsing the body"  # FastAPI's words for an unreadable body


async def _http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
    detail = str(error.detail)
    if error.status_code == 400 and detail == BODY_PARSE_ERROR:
        detail = "the body could not be read: send JSON encoded as UTF-8"
    return JSONResponse(status_code=error.status_code, content={"detail": detail}, headers=error.headers)


async def _unexpected_error(request: Request, error: Exception) -> JSONResponse:
    logger.exception("unexpected error on %s %s", request.method, request.url.path)
    return JSONResponse(status_code=500, content={"detail": "internal error (logged on the server)"})


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)
