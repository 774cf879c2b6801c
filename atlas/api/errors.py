"""One error body for the whole API: `{"detail": "<what went wrong>", "code": "<machine name>"}`."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from rest_framework import exceptions, serializers
from rest_framework.views import exception_handler


class ErrorSerializer(serializers.Serializer):
    """The body of every 4xx answer (documented in the OpenAPI schema)."""

    detail = serializers.CharField(help_text="What went wrong, in words; names the parameter at fault")
    code = serializers.CharField(help_text="e.g. invalid, invalid_choice, not_found, not_authenticated")


def _messages(detail, prefix: str = "") -> list[str]:
    """Every message of a (possibly nested) DRF error detail, prefixed by its parameter."""
    if isinstance(detail, dict):
        return [
            message
            for key, value in detail.items()
            for message in _messages(value, f"{key}: " if key != "non_field_errors" else "")
        ]
    if isinstance(detail, list):
        return [message for item in detail for message in _messages(item, prefix)]
    return [f"{prefix}{detail}"]


def _first_code(codes) -> str:
    if isinstance(codes, dict):
        codes = list(codes.values())
    if isinstance(codes, list):
        return _first_code(codes[0]) if codes else "invalid"
    return str(codes)


def error_body(exc: exceptions.APIException) -> dict:
    return {"detail": " ".join(_messages(exc.detail)), "code": _first_code(exc.get_codes())}


def api_exception_handler(exc, context):
    """DRF's handler (status, headers such as WWW-Authenticate and Retry-After), our body.

    A Django Http404 keeps its message only when we wrote it ("No such …"); Django's own
    ("No QlikApp matches the given query.") names a model class, so it becomes "Not found.".
    """
    if isinstance(exc, Http404):
        message = str(exc)
        exc = exceptions.NotFound(message if message.startswith("No such") else None)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = exception_handler(exc, context)
    if response is not None:
        response.data = error_body(exc)
    return response
