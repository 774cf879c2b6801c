"""Keyset (cursor) pagination: page 100 of 10,000 rows costs what page 1 costs."""

from django.core.exceptions import FieldDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import CursorPagination

MAX_CURSOR_POSITION = 1000  # characters: a position is one value of the sort key


class KeysetPagination(CursorPagination):
    """DRF's cursor pagination, strict: a bad `page_size` or cursor is a 400, not a guess.

    DRF falls back to the default page size when `page_size` is not a whole number in
    range, and answers an altered cursor with a 404; a script is better told. The cursor's
    position is checked against its sort field, so a forged one never reaches the database.
    """

    page_size = 100
    page_size_query_param = "page_size"
    page_size_query_description = "Rows per page, 1 to 1000 (default 100)."
    cursor_query_description = (
        "Where the page starts: take it from the `next` or `previous` link of the page before; "
        "an altered cursor is a 400."
    )
    max_page_size = 1000
    ordering = "row_id"

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not (raw.isascii() and raw.isdigit() and 1 <= int(raw) <= self.max_page_size):
            raise ValidationError(
                {
                    self.page_size_query_param: (
                        f"A whole number from 1 to {self.max_page_size}, not {raw[:40]!r}."
                    )
                }
            )
        return int(raw)

    def query_check(self, queryset, request) -> None:
        """The 400s of `page_size` and `cursor` without paging (CSV answers every row)."""
        self._model = queryset.model
        self.ordering = self.get_ordering(request, queryset, None)
        self.get_page_size(request)
        self.decode_cursor(request)

    def paginate_queryset(self, queryset, request, view=None):
        self._model = queryset.model
        return super().paginate_queryset(queryset, request, view)

    def decode_cursor(self, request):
        try:
            cursor = super().decode_cursor(request)
        except Exception:  # DRF's NotFound for a cursor that does not decode
            cursor = False
        if cursor and cursor.position is not None and not self._position_fits(cursor.position):
            cursor = False
        if cursor is False:
            raise ValidationError(
                {self.cursor_query_param: "Invalid cursor: use the `next` or `previous` link as given."}
            )
        return cursor

    def _position_fits(self, position: str) -> bool:
        if "\x00" in position or len(position) > MAX_CURSOR_POSITION:
            return False
        try:
            field = self._model._meta.get_field(self.ordering[0].lstrip("-"))
        except FieldDoesNotExist:
            return True
        try:
            field.to_python(position)
        except (DjangoValidationError, ValueError, TypeError):
            return False
        return True
