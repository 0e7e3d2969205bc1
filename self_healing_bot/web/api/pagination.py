"""Keyset pagination: newest first, `limit` items per page, `cursor` = the last id seen.

A page carries `next`, the link to the following page with the same filters, or null at the end;
keyset (not offset) so pages stay stable while new rows arrive.

    @router.get("")
    async def list_executions(request: Request, params: ...) -> Page[ExecutionView]:
        query = select(Execution)
        return await fetch_page(request, query, Execution.id, params, ExecutionView.model_validate)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Generic, Protocol, TypeVar

from fastapi import Query, Request
from pydantic import BaseModel
from sqlalchemy import Select
from sqlalchemy.orm import InstrumentedAttribute

MAX_LIMIT = 500
MAX_ID = 2**63 - 1  # BIGINT: a larger id can name no row, and would overflow the driver
Item = TypeVar("Item")
Row = TypeVar("Row", bound="HasId")


class Page(BaseModel, Generic[Item]):
    items: list[Item]
    next: str | None


@dataclass(frozen=True)
class PageParams:
    limit: int
    cursor: int | None


def page_params(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="items per page")] = 50,
    cursor: Annotated[
        int | None, Query(ge=0, le=MAX_ID, description="continue after this id (taken from `next`)")
    ] = None,
) -> PageParams:
    return PageParams(limit, cursor)


def paginate(
    query: Select[Row], id_column: InstrumentedAttribute[int], params: PageParams
) -> Select[Row]:
    """`query` restricted to the page; one extra row is fetched to know whether more follow."""
    if params.cursor is not None:
        query = query.where(id_column < params.cursor)
    return query.order_by(id_column.desc()).limit(params.limit + 1)


class HasId(Protocol):
    @property
    def id(self) -> int: ...


def page(
    request: Request, items: list[Item], rows: Sequence[HasId], params: PageParams
) -> Page[Item]:
    """The page of `items` (built from the first `limit` of `rows`) with its `next` link."""
    if len(rows) <= params.limit:
        return Page(items=items, next=None)
    link = request.url.include_query_params(cursor=rows[params.limit - 1].id, limit=params.limit)
    return Page(items=items, next=f"{link.path}?{link.query}")


async def fetch_page(
    request: Request,
    query: Select[Row],
    id_column: InstrumentedAttribute[int],
    params: PageParams,
    view: Callable[[Row], Item],
) -> Page[Item]:
    """The page of `query`'s rows (from the app's database) that `params` names, each shown
    through `view`, with the link to the next."""
    async with request.app.state.database.session() as session:
        rows = (await session.scalars(paginate(query, id_column, params))).all()
    return page(request, [view(row) for row in rows[: params.limit]], rows, params)
