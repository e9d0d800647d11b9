from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps

from indexsite import lean_imports

# The first application module Django imports (INSTALLED_APPS begins with this module's admin
# config), so before anything imports DRF: its optional imports the index never uses stay out
# of every worker's memory (indexsite/lean_imports.py).
lean_imports.import_without_unused_extras()


class PackagesAppConfig(AppConfig):
    name = "packages_app"
    verbose_name = "Package index"
    default_auto_field = "django.db.models.BigAutoField"
    # Two configs live here; this is the one "packages_app" in INSTALLED_APPS means.
    default = True

    def ready(self) -> None:
        from packages_app import credentials
        from packages_app.simple import timetravel
        from packages_app.upstream import cooldown

        timetravel.check_settings()
        cooldown.check_settings()
        credentials.connect_signals()


class IndexAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with the index's site as the default one (INSTALLED_APPS names this)."""

    default = False
    default_site = "packages_app.admin_site.IndexAdminSite"
