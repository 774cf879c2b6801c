"""Refuse, with a 400, the request inputs PostgreSQL cannot hold: NUL bytes and huge values.

A NUL byte in a query value (`?q=%00`) or in the path would reach a query as text, which
PostgreSQL refuses with an error (a 500). Checked once here for every page and endpoint,
before any view runs. API paths get the API's error body; pages a plain-text 400.
"""

from django.http import HttpResponseBadRequest, JsonResponse

MAX_QUERY_VALUE = 4096  # characters per query-string value; node ids and QRIs fit well within


def _problem(request) -> tuple[str, str] | None:
    if "\x00" in request.path:
        return "The path holds a NUL byte (%00).", "invalid"
    for name, values in request.GET.lists():
        if "\x00" in name or any("\x00" in value for value in values):
            return f"{name.replace(chr(0), '%00')[:40]}: NUL bytes (%00) are not allowed.", "invalid"
        if any(len(value) > MAX_QUERY_VALUE for value in values):
            return f"{name[:40]}: longer than {MAX_QUERY_VALUE} characters.", "too_long"
    return None


class RequestGuardMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        problem = _problem(request)
        if problem is None:
            return self.get_response(request)
        detail, code = problem
        if request.path.startswith("/api/"):
            return JsonResponse({"detail": detail, "code": code}, status=400)
        return HttpResponseBadRequest(detail, content_type="text/plain; charset=utf-8")
