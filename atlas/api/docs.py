"""What the OpenAPI document tells a script author about each operation.

Every operation gets a summary and a description written for the reader of /api/docs/:
what it answers, its filters with examples, pages, CSV and errors (tests/atlas/
test_api_schema.py fails when one lacks them or repeats a class docstring)."""

from drf_spectacular.utils import OpenApiParameter, extend_schema

from atlas.api.errors import ErrorSerializer

PROJECT_ID = OpenApiParameter(
    "project_id",
    int,
    OpenApiParameter.PATH,
    description="The project's id, as `GET /api/v1/projects/` lists it.",
)

ERROR_RESPONSES = {
    400: ErrorSerializer,
    401: ErrorSerializer,
    404: ErrorSerializer,
    429: ErrorSerializer,
}

PAGES = (
    '**Pages.** JSON answers `{"next", "previous", "results"}`; follow `next` (a URL, '
    "or null on the last page) to read on. `page_size` takes 1 to 1000 rows (default 100). "
    "Pages are keyset pages: a later page costs what the first costs, and rows added meanwhile "
    "do not shift them."
)
CSV_LIST = (
    "**CSV.** `?format=csv` answers every row matching the filters at once (no pages), one "
    "row per item, with a header row of the field names above (the same names as in JSON); "
    "a list or object inside a field is JSON text in its cell."
)
CSV_DETAIL = "**CSV.** `?format=csv` answers a header row and this one row."
ERRORS_PROJECT = (
    '**Errors** answer `{"detail": "…", "code": "…"}` in JSON, also when CSV was asked '
    "for: 400 for a bad parameter, named in `detail` (an unknown filter or filter value, a bad "
    "date, `page_size` out of range, an altered `cursor`, an unknown `format`, a NUL byte or a "
    "value over 4096 characters); 401 without a valid token; 404 when the project is not one "
    "you may see (another customer's project looks like none at all); 429 when the token's "
    "rate is spent (see `Retry-After`)."
)
ERRORS_TOP = ERRORS_PROJECT.replace(
    "404 when the project is not one you may see (another customer's project looks like none at all)",
    "404 for an id you may not see (another customer's rows look like none at all)",
)


def _join(*parts: str) -> str:
    return "\n\n".join(part.strip() for part in parts if part)


def list_schema(*, summary: str, returns: str, filters: str = "", order: str, serializer, project=True):
    """The list operation: returns, filters (with examples), order, pages, CSV, errors."""
    return extend_schema(
        summary=summary,
        description=_join(
            returns,
            f"**Filters** (combine freely; all must hold):\n\n{filters}" if filters else "",
            f"**Order:** {order}.",
            PAGES,
            CSV_LIST,
            ERRORS_PROJECT if project else ERRORS_TOP,
        ),
        responses={200: serializer, **ERROR_RESPONSES},
        parameters=[PROJECT_ID] if project else None,
    )


def detail_schema(*, summary: str, returns: str, serializer, project=True):
    """The detail operation: what one row holds, CSV, errors (a missing id is a 404)."""
    missing = "A missing id is a 404 `No such … in this project.`" if project else ""
    return extend_schema(
        summary=summary,
        description=_join(returns, missing, CSV_DETAIL, ERRORS_PROJECT if project else ERRORS_TOP),
        responses={200: serializer, **ERROR_RESPONSES},
        parameters=[PROJECT_ID] if project else None,
    )
