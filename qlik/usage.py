"""How an app's use over the window is measured and classified (pure functions).

Sources, all from the API: the item's `itemViews` (opens in Qlik's last 28 days and unique
users), the reload listing (reloads in the window, last reload), and audit sheet-view
events (sheet views, their users, the last view) where the key may read audits.

Classification, first match wins:
- never_reloaded: the app has no reload at all (no reload listed, no reload end time);
- no_usage_data: the item carries no view counts (`itemViews` absent or empty) and the key
  may not read audit events, so nothing says whether anyone opened it — not "unused";
- unused: no open and no sheet view in the window;
- low_use: opens + sheet views below QLIK_LOW_USE_THRESHOLD (default 10);
- active: everything else.
"""

from dataclasses import dataclass, field


@dataclass
class AppUsageInputs:
    """What the listings told about one app (small: a sync keeps one per app)."""

    reloads_in_window: int = 0
    failed_reload_days: list[str] = field(default_factory=list)  # in the window, one per failure
    last_reload_id: str = ""
    last_reload_end: str | None = None
    sheet_views: int = 0
    viewers: set[str] = field(default_factory=set)
    last_viewed: str | None = None


def usage_classify(
    *, ever_reloaded: bool, app_opens: int, sheet_views: int, low_use_threshold: int, measured: bool = True
) -> str:
    if not ever_reloaded:
        return "never_reloaded"
    if not measured:
        return "no_usage_data"
    if app_opens == 0 and sheet_views == 0:
        return "unused"
    if app_opens + sheet_views < low_use_threshold:
        return "low_use"
    return "active"


def usage_row(
    *,
    item: dict,
    inputs: AppUsageInputs,
    connections: list[str],
    window_days: int,
    generated_at: str,
    low_use_threshold: int,
    audits_counted: bool = True,
) -> dict:
    """The qlik_app_usage object of one app, in the shape the storage takes."""
    views = item.get("itemViews") if isinstance(item.get("itemViews"), dict) else {}
    app_opens = _count(views.get("total"))
    last_reload = max(filter(None, [inputs.last_reload_end, item.get("resourceReloadEndTime")]), default=None)
    return {
        "appId": item["resourceId"],
        "appName": item.get("name") or "",
        "windowDays": window_days,
        "generatedAt": generated_at,
        "usageReloads": inputs.reloads_in_window,
        "usageAppOpens": app_opens,
        "usageSheetViews": inputs.sheet_views,
        "usageUniqueUsers": max(_count(views.get("unique")), len(inputs.viewers)),
        "usageLastReloadAt": last_reload,
        "usageLastViewedAt": inputs.last_viewed,
        "usageClassification": usage_classify(
            ever_reloaded=last_reload is not None,
            app_opens=app_opens,
            sheet_views=inputs.sheet_views,
            low_use_threshold=low_use_threshold,
            measured="total" in views or audits_counted,
        ),
        "connections": connections,
        "reloadFailures": sorted(inputs.failed_reload_days),
    }


def _count(value) -> int:
    """A view count as given, or 0 where the tenant sent none or nonsense."""
    try:
        return max(int(value or 0), 0)
    except (TypeError, ValueError):
        return 0
