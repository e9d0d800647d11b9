from django.apps import AppConfig


class PackagesAppConfig(AppConfig):
    name = "packages_app"
    verbose_name = "Package index"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from packages_app.simple import timetravel

        timetravel.check_settings()
