from django.core.management.base import BaseCommand

from packages_app.management.commands._release_lookup import get_release
from packages_app.services.releases import unyank_release


class Command(BaseCommand):
    help = "Undo a yank."

    def add_arguments(self, parser):
        parser.add_argument("project")
        parser.add_argument("version")

    def handle(self, *args, **options):
        release = unyank_release(get_release(options["project"], options["version"]))
        self.stdout.write(f"Unyanked {release.project.name} {release.version}.")
