from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Make sure the superuser named by ADMIN_USERNAME exists with ADMIN_PASSWORD. "
        "Does nothing when they are not set; an existing user's password is left alone."
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
        users.create_superuser(username=username, email=settings.ADMIN_EMAIL, password=password)
        self.stdout.write(f"Created admin user '{username}'.")
