from django.core.management.base import CommandError

from packages_app.models import Project, Release
from packages_app.services.releases import find_release


def get_release(project_name: str, version: str) -> Release:
    project = Project.objects.by_name(project_name).first()
    if project is None:
        raise CommandError(f"No project named '{project_name}'.")
    release = find_release(project, version)
    if release is None:
        raise CommandError(f"{project.name} has no release {version}.")
    return release
