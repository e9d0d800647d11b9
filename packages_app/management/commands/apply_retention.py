from django.core.management.base import BaseCommand, CommandError
from django.template.defaultfilters import filesizeformat

from packages_app.models import Project, RetentionPolicy
from packages_app.retention import Doomed, describe
from packages_app.services import retention as retention_services


class Command(BaseCommand):
    help = (
        "Apply the retention policies: delete the dev, pre- and post-releases they select (journaled, "
        "filenames never reusable, stored files removed). --dry-run lists exactly what would go, with sizes."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="List what would be deleted; delete nothing.")
        parser.add_argument("--project", help="Only this project (any spelling of its name).")
        parser.add_argument("--list-policies", action="store_true", help="List the policies and stop.")

    def handle(self, *args, **options):
        if options["list_policies"]:
            for policy in RetentionPolicy.objects.select_related("project").order_by("project__normalized_name", "pk"):
                self.stdout.write(f"{policy.pk}: {describe(policy)}")
            return
        project = None
        if options["project"]:
            project = Project.objects.by_name(options["project"]).first()
            if project is None:
                raise CommandError(f"No project named '{options['project']}'.")
        totals = [0, 0, 0]

        def report(item: Doomed) -> None:
            totals[0] += 1
            totals[1] += item.files
            totals[2] += item.size
            files = "1 file" if item.files == 1 else f"{item.files} files"
            self.stdout.write(f"{item.project} {item.version}: {files}, {_size(item.size)} (policy: {item.policy})")

        if options["dry_run"]:
            for item in retention_services.plan(project):
                report(item)
            verb = "Would delete"
        else:
            retention_services.apply(project, on_deleted=report)
            verb = "Deleted"
        releases = "1 release" if totals[0] == 1 else f"{totals[0]} releases"
        files = "1 file" if totals[1] == 1 else f"{totals[1]} files"
        self.stdout.write(f"{verb} {releases} ({files}, {_size(totals[2])}).")


def _size(size: int) -> str:
    return filesizeformat(size).replace("\xa0", " ")
