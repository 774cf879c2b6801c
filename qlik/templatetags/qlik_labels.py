"""Template filters that turn stored codes into the words users read."""

from django import template

from qlik.models import QlikAppUsage

register = template.Library()

USAGE_LABELS = dict(QlikAppUsage.Classification.choices)


@register.filter
def usage_label(code: str | None) -> str:
    """ "never_reloaded" → "Never reloaded"; an unknown code is shown as it is."""
    return USAGE_LABELS.get(code, code) if code else "—"
