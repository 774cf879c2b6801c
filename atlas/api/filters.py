"""django-filter's backend, strict: a query parameter the endpoint does not take is a 400."""

import django_filters as filters
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.exceptions import ValidationError

ALWAYS_TAKEN = frozenset({"format", "cursor", "page_size"})


def query_params_check(request, *, taken) -> None:
    """400 naming the first parameter not in `taken` (and listing those taken)."""
    unknown = sorted(set(request.query_params) - set(taken))
    if unknown:
        raise ValidationError(
            {unknown[0][:40]: f"This endpoint takes no such parameter; it takes {', '.join(sorted(taken))}."},
            code="unknown_parameter",
        )


class StrictFilterBackend(DjangoFilterBackend):
    """`?onwer=…` (a typo) would otherwise answer the whole list as if unfiltered."""

    def filter_queryset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        query_params_check(
            request, taken=ALWAYS_TAKEN | set(filterset_class.base_filters if filterset_class else ())
        )
        return super().filter_queryset(request, queryset, view)


def choice_filter(*, field_name: str, choices, help_text: str, typed=filters.ChoiceFilter, **kwargs):
    """A ChoiceFilter whose 400 lists the values it takes."""
    values = ", ".join(value for value, _ in choices)
    return typed(
        field_name=field_name,
        choices=choices,
        help_text=f"{help_text} One of: {values}.",
        error_messages={"invalid_choice": f"%(value)s is not one of {values}."},
        **kwargs,
    )
