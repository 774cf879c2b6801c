from django.apps import AppConfig


class QlikConfig(AppConfig):
    name = "qlik"
    verbose_name = "Qlik metadata"
