"""Request dependencies: the store and the bundle currently served (503 until one is loaded).

They are `async` so FastAPI calls them on the event loop instead of a worker thread (cheaper per request).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request

from ovni_serving.model_store import ModelStore, ServingBundle


async def get_store(request: Request) -> ModelStore:
    return request.app.state.store


async def get_bundle(request: Request) -> ServingBundle:
    """The bundle at the moment of the call; the handler keeps using this one object to the end."""
    bundle = request.app.state.store.bundle
    if bundle is None:
        raise HTTPException(
            status_code=503,
            detail="no model loaded yet: see GET /ready for what is missing",
            headers={"Retry-After": "5"},
        )
    return bundle


StoreDep = Annotated[ModelStore, Depends(get_store)]
BundleDep = Annotated[ServingBundle, Depends(get_bundle)]
