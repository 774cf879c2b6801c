from django.apps import AppConfig


class HealthConfig(AppConfig):
    """The health board: every visible project's sync and tenant health, worst first."""

    name = "health"
    verbose_name = "Health"
