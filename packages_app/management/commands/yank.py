from django.core.management.base import BaseCommand

from packages_app.management.commands._release_lookup import get_release
from packages_app.services.releases import yank_release


class Command(BaseCommand):
    help = "Yank a release (PEP 592): installers skip it unless it is pinned exactly."

    def add_arguments(self, parser):
        parser.add_argument("project")
        parser.add_argument("version")
        parser.add_argument("--reason", default="", help="Shown to people who install it anyway.")

    def handle(self, *args, **options):
        release = yank_release(get_release(options["project"], options["version"]), options["reason"])
        self.stdout.write(f"Yanked {release.project.name} {release.version}.")
