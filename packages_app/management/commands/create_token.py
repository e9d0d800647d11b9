from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from packages_app.models import Project
from packages_app.services.tokens import create_token


class Command(BaseCommand):
    help = "Create an API token for USER and print it once; only its hash is stored."

    def add_arguments(self, parser):
        parser.add_argument("user")
        parser.add_argument("--project", action="append", default=[], help="Limit the token to this project (repeat).")
        parser.add_argument("--expires-days", type=int, help="Days until the token expires (default: never).")
        parser.add_argument("--name", default="", help="A label to recognise the token by.")
        parser.add_argument(
            "--read-only",
            action="store_true",
            help="The token installs (reads) but never uploads or changes anything.",
        )

    def handle(self, *args, **options):
        user = get_user_model().objects.filter(username=options["user"]).first()
        if user is None:
            raise CommandError(f"No user named '{options['user']}'.")
        projects = []
        for name in options["project"]:
            project = Project.objects.by_name(name).first()
            if project is None:
                raise CommandError(f"No project named '{name}'.")
            projects.append(project)
        days = options["expires_days"]
        if days is not None and days < 1:
            raise CommandError("--expires-days must be at least 1.")
        expires = timezone.now() + timedelta(days=days) if days else None
        _, plaintext = create_token(
            user, name=options["name"], projects=projects, expires=expires, read_only=options["read_only"]
        )
        self.stdout.write(plaintext)
