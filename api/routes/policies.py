"""GET /policies/search: the policy sections the assistant itself would read, for the portal's
public help centre. Read-only; the same FAISS index and search the agent uses."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool

from api.deps import ServicesDep
from api.schemas import ERROR_RESPONSES

router = APIRouter(tags=["policies"])


@router.get("/policies/search", responses=ERROR_RESPONSES, summary="Search the policies")
async def search(services: ServicesDep,
                 q: Annotated[str, Query(min_length=1, max_length=200)],
                 k: Annotated[int, Query(ge=1, le=10)] = 5):
    """Best sections first: `source` (file), `section` (heading), `score` (cosine) and `text`."""
    text = q.strip()
    if not text:
        return {"query": q, "hits": []}
    hits = await run_in_threadpool(services.index.search, text, k)
    return {"query": text, "hits": hits}
