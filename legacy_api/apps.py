from django.apps import AppConfig


class LegacyApiConfig(AppConfig):
    name = "legacy_api"
    verbose_name = "Legacy JSON and XML-RPC APIs"
