"""Template filters that turn stored codes and timestamps into the words users read."""

from datetime import UTC, datetime

from django import template
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.timesince import timesince

from qlik.models import QlikAppUsage

register = template.Library()

USAGE_LABELS = dict(QlikAppUsage.Classification.choices)


@register.filter
def usage_label(code: str | None) -> str:
    """ "never_reloaded" → "Never reloaded"; an unknown code is shown as it is."""
    return USAGE_LABELS.get(code, code) if code else "—"


def _moment(value) -> datetime | None:
    if isinstance(value, str):
        value = parse_datetime(value)
    if not isinstance(value, datetime):
        return None
    return value if timezone.is_aware(value) else value.replace(tzinfo=UTC)


@register.filter
def ago(value, empty: str = "—"):
    """`<time>` reading "3 days ago" (or "in 2 hours"), the date and time on hover."""
    moment = _moment(value)
    if moment is None:
        return empty
    now = timezone.now()
    words = (
        f"{timesince(moment, now, depth=1)} ago" if moment <= now else f"in {timesince(now, moment, depth=1)}"
    )
    if moment <= now and (now - moment).total_seconds() < 60:
        words = "just now"
    local = timezone.localtime(moment)
    return format_html(
        '<time datetime="{}" title="{}">{}</time>',
        moment.isoformat(),
        date_format(local, "j M Y, H:i T"),
        words,
    )


@register.filter
def duration(value) -> str:
    """A timedelta (or milliseconds) as "2 min 5 s"."""
    if value is None or value == "":
        return "—"
    seconds = value.total_seconds() if hasattr(value, "total_seconds") else float(value) / 1000
    if seconds < 60:
        return f"{seconds:.1f} s" if seconds < 10 else f"{seconds:.0f} s"
    minutes, seconds = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {seconds} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


@register.filter
def lookup(mapping, key):
    return (mapping or {}).get(key)
