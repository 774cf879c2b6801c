"""What every consultant page shares: the project (or a 404), how fresh its data is,
request parameters that cannot break a query, and CSV answers."""

import csv
from collections.abc import Iterable

from django.http import Http404, HttpResponse

from customers.models import Project
from customers.selectors import project_get
from qlik import selectors

MAX_PARAM = 500


def project_or_404(project_id: int) -> Project:
    try:
        return project_get(project_id=project_id)
    except Project.DoesNotExist:
        raise Http404("No such project.")  # another customer's project looks like none at all


def project_context(project: Project) -> dict:
    """The project and what its data stands on (`sync_state`: two queries), for the nav."""
    return {"project": project, "sync": selectors.sync_state(project=project)}


def path_id(value: str) -> str:
    """An id from the URL's path; one PostgreSQL could not even compare is no such thing."""
    if "\x00" in value or len(value) > MAX_PARAM:
        raise Http404("No such thing in this project.")
    return value


def param(request, name: str, limit: int = MAX_PARAM) -> str:
    """A GET parameter, stripped, without NUL characters (PostgreSQL refuses them in text),
    no longer than `limit`."""
    return request.GET.get(name, "").replace("\x00", "").strip()[:limit]


def int_param(request, name: str) -> int | None:
    value = param(request, name, 12)
    # isdigit() is also true of "²" and other Unicode digits, which int() refuses (a 500).
    return int(value) if value.isascii() and value.isdigit() else None


def csv_response(filename: str, columns: list[str], rows: Iterable[Iterable]) -> HttpResponse:
    """An attachment with snake_case `columns` as its header row."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    writer.writerow(columns)
    writer.writerows(["" if value is None else value for value in row] for row in rows)
    return response
