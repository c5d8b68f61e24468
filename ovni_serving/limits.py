"""What one request may cost: a cap on the body size, checked before the body is parsed."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse


def too_large(limit: int) -> str:
    return (
        f"the request body is larger than {limit} bytes; send at most the pairs or rows one request "
        "takes (see the schema's maxItems) and split bigger jobs into several requests"
    )


class BodyLimitMiddleware:
    """Pure ASGI middleware: 413 for a body over `max_bytes`, from its Content-Length before anything is
    read, or (chunked bodies) as soon as the bytes received pass the limit."""

    def __init__(self, app, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            response = JSONResponse(status_code=413, content={"detail": too_large(self.max_bytes)})
            await response(scope, receive, send)
            return
        received = 0

        async def limited_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise HTTPException(status_code=413, detail=too_large(self.max_bytes))
            return message

        await self.app(scope, limited_receive, send)
