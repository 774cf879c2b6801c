"""CSV a spreadsheet opens, and a 400 for a `?format=` the API does not have."""

import json

from rest_framework.exceptions import ValidationError
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework_csv.renderers import CSVRenderer


class FlatCsvRenderer(CSVRenderer):
    """One row per item and one column per field: a list or object inside a field is JSON
    text in its cell (djangorestframework-csv would spread it over `field.0.key` columns)."""

    def flatten_item(self, item):
        if isinstance(item, dict):
            return {str(key): _cell(value) for key, value in item.items()}
        return {"": _cell(item)}


def _cell(value):
    return json.dumps(value, ensure_ascii=False, default=str) if isinstance(value, (dict, list)) else value


class StrictContentNegotiation(DefaultContentNegotiation):
    """An unknown `?format=` is a 400 naming the formats (DRF answers it with a 404)."""

    def filter_renderers(self, renderers, format):
        kept = [renderer for renderer in renderers if renderer.format == format]
        if not kept:
            known = ", ".join(sorted({renderer.format for renderer in renderers} - {"api"}))
            raise ValidationError({"format": f"Unknown format {format[:40]!r}: use one of {known}."})
        return kept
