from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from packages_app.upstream import prefetch


class Command(BaseCommand):
    help = (
        "Warm the upstream cache (UPSTREAM_INDEX_URL): fetch, check and keep the upstream files of each "
        "requirement now, so that installing them later needs no upstream. By default every file of the newest "
        "version each requirement allows, as /simple/ offers it (cool-downs applied, yanked files left out). "
        "Dependencies are not resolved: list them too. Names held here or refused by the guard are skipped. "
        "Exits 1 when a requirement could not be satisfied (the others are still fetched)."
    )

    def add_arguments(self, parser):
        parser.add_argument("requirements", nargs="*", metavar="REQUIREMENT", help="A PEP 508 requirement.")
        parser.add_argument(
            "-r",
            "--requirement",
            dest="requirement_files",
            action="append",
            type=Path,
            default=[],
            metavar="FILE",
            help="A pip requirements file (comments, -r; options, editables and URLs skipped). Repeatable.",
        )
        parser.add_argument(
            "--all-versions", action="store_true", help="Every version the requirement allows, not only the newest."
        )

    def handle(self, *args, requirements, requirement_files, all_versions=False, **options):
        if not requirements and not requirement_files:
            raise CommandError("Name at least one requirement, or a requirements file with -r.", returncode=2)
        try:
            plan = prefetch.make_plan(requirements, requirement_files, all_versions=all_versions)
        except prefetch.PrefetchError as error:
            raise CommandError(str(error), returncode=2) from None
        for warning in plan.warnings:
            self.stderr.write(f"Warning: {warning}")
        show_progress = options.get("verbosity", 1) > 0 and self.stderr.isatty() and bool(plan.to_fetch)
        with tqdm(
            total=plan.total_bytes,
            desc="Fetching",
            unit="B",
            unit_scale=True,
            unit_divisor=1024,
            disable=not show_progress,
            file=_Unstyled(self.stderr),
        ) as bar:
            prefetch.fetch(plan, on_bytes=bar.update)
        for line in prefetch.summary(plan):
            self.stdout.write(line)
        if plan.failed:
            names = ", ".join(plan.failed)
            raise CommandError(f"{len(plan.failed)} requirement(s) could not be satisfied: {names}.", returncode=1)


class _Unstyled:
    """A command's stderr as tqdm needs it: written as given (no line ending added, no error colour)."""

    def __init__(self, wrapper) -> None:
        self.wrapper = wrapper

    def write(self, text: str) -> None:
        self.wrapper.write(text, style_func=lambda styled: styled, ending="")

    def flush(self) -> None:
        self.wrapper.flush()
