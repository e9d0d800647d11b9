from django.conf import settings
from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = (
        "Make sure the superuser named by ADMIN_USERNAME exists with ADMIN_PASSWORD. "
        "Does nothing when they are not set; an existing user's password is left alone. "
        "A password that AUTH_PASSWORD_VALIDATORS refuse makes no user (exit status 1)."
    )

    def handle(self, *args, **options):
        username, password = settings.ADMIN_USERNAME, settings.ADMIN_PASSWORD
        if not username:
            return
        if not password:
            self.stderr.write("ADMIN_USERNAME is set but ADMIN_PASSWORD is not; no admin user made.")
            return
        users = get_user_model().objects
        if users.filter(username=username).exists():
            self.stdout.write(f"Admin user '{username}' already exists.")
            return
        try:
            # The validators that the admin's own password forms apply: the first admin is
            # the most powerful account, and the most likely to get a placeholder password.
            password_validation.validate_password(password, users.model(username=username, email=settings.ADMIN_EMAIL))
        except ValidationError as weak:
            raise CommandError(f"ADMIN_PASSWORD is too weak, no admin user made: {' '.join(weak.messages)}") from None
        users.create_superuser(username=username, email=settings.ADMIN_EMAIL, password=password)
        self.stdout.write(f"Created admin user '{username}'.")
