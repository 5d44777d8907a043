from django.apps import AppConfig


class DesignerUiConfig(AppConfig):
    name = "designer_ui"
    verbose_name = "Designer"
