from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from packages_app.upload.importing import find_distributions, import_file


class Command(BaseCommand):
    help = (
        "Import a folder of distributions (a pypiserver or devpi export) through the upload checks. "
        "Legacy file types and versions are accepted; corrupt archives are rejected. A file already in the "
        "index whose stored bytes are missing or corrupt is stored again from the folder (restored)."
    )

    def add_arguments(self, parser):
        parser.add_argument("directory", type=Path)
        parser.add_argument("--owner", help="User made Owner of the projects the import creates.")
        parser.add_argument(
            "--by",
            help="The user the import is recorded as: the journal's actor and the files' uploader "
            "(default: the --owner user; without either, the journal says nobody, an operator's command).",
        )
        parser.add_argument(
            "--upload-time-from-mtime",
            action="store_true",
            help="Keep each file's modification time as its upload time (for cool-downs and time travel).",
        )

    def handle(self, *args, directory: Path, owner=None, by=None, upload_time_from_mtime=False, **options):
        if not directory.is_dir():
            raise CommandError(f"'{directory}' is not a folder.")
        owner_user = _user(owner) if owner else None
        importer = _user(by) if by else owner_user
        paths = list(find_distributions(directory))
        counts = {"imported": 0, "restored": 0, "skipped": 0, "rejected": 0}
        rejected = []
        show_progress = options.get("verbosity", 1) > 0 and self.stderr.isatty()
        for path in tqdm(paths, desc="Importing", unit="file", disable=not show_progress, file=self.stderr):
            result = import_file(
                path, owner=owner_user, importer=importer, upload_time_from_mtime=upload_time_from_mtime
            )
            counts[result.status] += 1
            if result.status == "rejected":
                rejected.append(result)
        self.stdout.write(
            f"Imported {counts['imported']}, skipped {counts['skipped']} (already present), "
            f"rejected {counts['rejected']}."
        )
        if counts["restored"]:
            self.stdout.write(
                f"Restored {counts['restored']} already in the index whose stored bytes were missing or corrupt."
            )
        for result in rejected:
            self.stdout.write(f"  rejected {result.path.relative_to(directory)}: {result.reason}")


def _user(name: str):
    user = get_user_model().objects.filter(username=name).first()
    if user is None:
        raise CommandError(f"No user named '{name}'.")
    return user
