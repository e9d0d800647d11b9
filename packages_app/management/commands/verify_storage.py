import json
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError

from packages_app import integrity


class Command(BaseCommand):
    help = (
        "Check that every file row has its stored bytes (size and sha256) and that every stored file has a row. "
        "Exits 1 when problems are found. A file whose bytes are missing or corrupt is repaired by uploading "
        "the identical file again (or import_dists of a folder holding it). --repair removes orphans older "
        "than the grace period; with --quarantine it also yanks (PEP 592) each release with a missing or "
        "corrupt file, with a reason naming the files: only what is lost stops being offered, not every version "
        "of the project as a PEP 792 quarantine would. Rows are never deleted."
    )

    def add_arguments(self, parser):
        parser.add_argument("--quick", action="store_true", help="Check existence and size only, not sha256.")
        parser.add_argument(
            "--grace-minutes",
            type=float,
            default=integrity.DEFAULT_GRACE.total_seconds() / 60,
            help="Stored files without a row younger than this are an upload in flight: "
            "listed, never counted or removed (default 60).",
        )
        parser.add_argument("--repair", action="store_true", help="Remove orphans older than the grace period.")
        parser.add_argument(
            "--quarantine",
            action="store_true",
            help="With --repair: yank each release with a missing or corrupt file, with a reason naming the files "
            "(undone when the identical file is uploaded again).",
        )
        parser.add_argument("--json", action="store_true", help="Print the report as JSON.")

    def handle(self, *args, **options):
        if options["quarantine"] and not options["repair"]:
            raise CommandError("--quarantine is a repair: pass --repair too.", returncode=2)
        if options["grace_minutes"] < 0:
            raise CommandError("--grace-minutes cannot be negative.", returncode=2)
        report = integrity.check(quick=options["quick"], grace=timedelta(minutes=options["grace_minutes"]))
        repaired = None
        if options["repair"]:
            repaired = integrity.repair(report, quarantine=options["quarantine"])
        if options["json"]:
            answer = report.as_dict()
            if repaired is not None:
                answer["repair"] = {
                    "removed": repaired.removed,
                    "kept": [{"path": path, "why": why} for path, why in repaired.kept],
                    "yanked": repaired.yanked,
                    "already_yanked": repaired.already_yanked,
                    "untouched_rows": len(repaired.untouched_rows),
                }
            self.stdout.write(json.dumps(answer, indent=2))
        else:
            self.stdout.write(integrity.render(report))
            if repaired is not None:
                self.stdout.write(integrity.render_repair(repaired))
        if not report.ok:
            # Even after a repair: the exit status says what the check found, so a cron job alerts.
            raise CommandError(f"{len(report.problems)} storage problem(s) found.", returncode=1)
