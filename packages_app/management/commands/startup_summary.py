"""``manage.py startup_summary --url URL``: what ``./scripts/serve`` prints once the index is up."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Print where the index is served, who administers it, where its data lives and how clients use it."

    def add_arguments(self, parser):
        parser.add_argument("--url", required=True, help="The URL the index is served at, e.g. http://127.0.0.1:8000/")

    def handle(self, *args, url: str, **options):
        url = url.rstrip("/") + "/"
        admins = list(
            get_user_model()
            .objects.filter(is_superuser=True, is_active=True)
            .order_by("username")
            .values_list("username", flat=True)[:3]
        )
        if admins:
            admin = f"{url}admin/ (signs in: {', '.join(admins)})"
        else:
            admin = (
                f"{url}admin/ has no admin user yet: restart with ADMIN_USERNAME=admin ADMIN_PASSWORD=... "
                "./scripts/serve, or run .venv/bin/python manage.py createsuperuser"
            )
        data = settings.DATA_DIR if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3") else None
        lines = [
            f"The package index is up at {url}",
            f"  Admin:    {admin}",
            f"  Data:     {data or 'in ' + settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}"
            + (f" (files in {settings.FILES_ROOT})" if settings.FILE_STORAGE == "local" else " (files in S3)"),
            "  Token:    .venv/bin/python manage.py create_token USER   (shown once; or in the admin;",
            "            --read-only for a token that installs but never uploads)",
            *install_lines(url),
            f"  Upload:   twine upload --repository-url {url}legacy/ -u __token__ -p TOKEN dist/*",
            f"            uv publish --publish-url {url}legacy/ --token TOKEN dist/*",
        ]
        self.stdout.write("\n".join(lines))


def install_lines(url: str) -> list[str]:
    """How pip and uv install from it: with a token, unless reads are open."""
    if settings.READ_ACCESS == "public":
        return [
            f"  Install:  pip install --index-url {url}simple/ NAME",
            f"            uv pip install --index-url {url}simple/ NAME",
        ]
    scheme, _, rest = url.partition("://")
    with_token = f"{scheme}://__token__:TOKEN@{rest}simple/"
    return [
        f"  Install:  pip install --index-url {with_token} NAME   (reads need a token: READ_ACCESS=authenticated)",
        f"            uv pip install --index-url {with_token} NAME",
        "            or keep the token out of the URL: a netrc entry 'machine HOST login __token__ password TOKEN'",
    ]
