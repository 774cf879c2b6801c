"""Keyset (cursor) pagination: page 100 of 10,000 rows costs what page 1 costs."""

from rest_framework.pagination import CursorPagination


class KeysetPagination(CursorPagination):
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000
    ordering = "row_id"
