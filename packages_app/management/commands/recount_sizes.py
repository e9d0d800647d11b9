from django.core.management.base import BaseCommand, CommandError

from packages_app.services import quotas
from packages_app.sizes import human_size


class Command(BaseCommand):
    help = (
        "Compare each project's running size (what quotas are checked against) with the sum of its files' "
        "sizes, and set the drifted ones right. Drift comes only from files written around the file services "
        "(code older than this version during a rolling upgrade, hand edits of the database). "
        "--check only reports, and exits 1 when a project has drifted."
    )

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="Report drift, change nothing; exit 1 if any.")

    def handle(self, *args, **options):
        drifted = quotas.recount_project_sizes(repair=not options["check"])
        for drift in drifted:
            self.stdout.write(f"{drift.name}: kept {_shown(drift.kept)}, its files {_shown(drift.summed)}")
        if not drifted:
            self.stdout.write("Every project's size matches its files.")
        elif options["check"]:
            raise CommandError(f"{len(drifted)} project size(s) drifted; run without --check to set them right.")
        else:
            self.stdout.write(f"Set {len(drifted)} project size(s) to the sum of their files.")


def _shown(size: int) -> str:
    return human_size(size) if size < 1024 else f"{human_size(size)} ({size} bytes)"
