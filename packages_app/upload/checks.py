"""Stage 4's checks: everything an upload is refused for that writes nothing.

Before the bytes are stored (``check``), the cheap refusals: permission and a clash of name
or bytes, then the archive. Under the write lock (``recheck``), once: permission and clashes
again (a concurrent upload may have created the project or the file meanwhile), and the
release rules and quotas, which are decided there only, on the project as it is then.
"""

from __future__ import annotations

import hmac
from datetime import timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from packages_app import access, namespaces, naming, quotas
from packages_app.models import File, FilenameRegistry, PackageType, Project, Release
from packages_app.services import releases as release_services
from packages_app.sizes import human_size
from packages_app.upload import archives
from packages_app.upload.errors import UploadError, bad_request

if TYPE_CHECKING:
    from packages_app.upload.pipeline import Distribution, Publication


def file_too_large(project_name: str | None = None) -> UploadError:
    limit = human_size(settings.MAX_FILE_SIZE)
    if project_name is None:
        return bad_request(f"File too large. The limit is {limit}.")
    return bad_request(f"File too large. Limit for project '{project_name}' is {limit}.")


def check_digests(supplied: dict[str, str], dist: Distribution) -> None:
    computed = {"md5_digest": dist.md5, "sha256_digest": dist.sha256, "blake2_256_digest": dist.blake2_256}
    for key, value in supplied.items():
        if not hmac.compare_digest(value.lower(), computed[key]):
            raise bad_request("The digest supplied does not match a digest calculated from the uploaded file.")


def _check_permission(pub: Publication, project: Project | None) -> None:
    if pub.identity is None:
        return  # import_dists runs as the operator
    refusal = access.upload_refusal(pub.identity, project, pub.metadata.name)
    if refusal:
        raise UploadError(403, refusal)
    if project is None:
        # PEP 752: a new project inside a namespace its uploader does not hold is a 409.
        # Projects there before the grant keep taking uploads (the PEP's SHOULD).
        # A pending trusted publisher creates the project for its Owner-to-be (pub.owner).
        creator = pub.owner if pub.owner is not None else pub.identity.user
        conflict = namespaces.creation_refusal(creator, naming.normalize_name(pub.metadata.name))
        if conflict:
            raise UploadError(409, conflict)


def _duplicate(pub: Publication) -> File | None:
    """The identical file when it is already there; an error when the name or bytes clash."""
    dist = pub.dist
    # The registry first: a file's row and its name's registration commit together, so a
    # name registered by then is either a file the queries below see or a deleted one.
    # Asked last, a parallel upload committing in between looked like a deleted file.
    registered = FilenameRegistry.objects.filter(filename=dist.filename).exists()
    # One query for the files the name or the bytes clash with (an index each, unordered),
    # without their rows: the whole row is read only for the identical file, which is returned.
    clashes = list(
        File.objects.filter(
            Q(filename=dist.filename) | Q(blake2_256_digest=dist.blake2_256) | Q(sha256_digest=dist.sha256)
        )
        .order_by()
        .values_list("pk", "filename", "sha256_digest", "blake2_256_digest")
    )
    if clashes:
        for pk, *identity in clashes:
            # Filenames are unique, so the identical file, when there, is the only one of its name.
            if tuple(identity) == (dist.filename, dist.sha256, dist.blake2_256):
                identical = File.objects.filter(pk=pk).first()
                if identical is not None:
                    return identical
                registered = True  # deleted just now; its name stays registered
                break
        else:
            raise bad_request(f"File already exists ('{dist.filename}', with blake2_256 hash '{dist.blake2_256}').")
    if registered:
        raise bad_request(
            "This filename was previously used by a file that has since been deleted. Use a different version."
        )
    return None


def _check_release_open(pub: Publication, project: Project, release: Release | None) -> None:
    """``CLOSE_RELEASES_AFTER_DAYS``: a release takes files only while it is young.

    The operator's import (no identity) brings back files a release had before, so it is exempt.
    """
    limit = settings.CLOSE_RELEASES_AFTER_DAYS
    if limit is None or release is None or pub.identity is None:
        return
    age = timezone.now() - release.created
    if age > timedelta(days=limit):
        raise bad_request(
            f"Release '{project.name} {release.version}' was created {age.days} days ago; this index takes no "
            f"new files on a release older than {limit} days (CLOSE_RELEASES_AFTER_DAYS). Upload a new version instead."
        )


def _check_release_rules(pub: Publication, project: Project | None) -> Release | None:
    """Refuse what the release rules and quotas refuse; the release of this version, when it exists."""
    if project is None:
        return None
    release = release_services.find_release(project, pub.metadata.version)
    _check_release_open(pub, project, release)
    is_sdist = pub.dist.packagetype == PackageType.SDIST
    if is_sdist and release is not None and release.files.filter(packagetype=PackageType.SDIST).exists():
        raise bad_request("Only one sdist may be uploaded per release.")
    refusal = quotas.upload_refusal(project, pub.dist.size)
    if refusal is not None:
        raise bad_request(refusal)
    return release


def check(pub: Publication) -> tuple[File | None, bytes | None]:
    """The refusals decided before the bytes are stored: permission, clashes, the archive.

    Returns the identical file when it is already there, else the core
    metadata to serve beside the new file.
    """
    project = Project.objects.by_name(pub.metadata.name).first()
    _check_permission(pub, project)
    existing = _duplicate(pub)
    if existing is not None:
        return existing, None
    core_metadata = archives.inspect_distribution(pub.dist.path, pub.dist.filename, pub.dist.packagetype)
    # PEP 658 metadata is served for wheels only: an sdist's PKG-INFO may leave fields dynamic.
    return None, core_metadata if pub.dist.packagetype == PackageType.BDIST_WHEEL else None


def recheck(pub: Publication, project: Project | None) -> tuple[File | None, Release | None]:
    """Under the write lock: permission and clashes again, the release rules and quotas once.

    Returns the identical file when it is there now (then nothing is to be written), else
    None and the release of this version when it exists, for the write to add the file to.
    """
    _check_permission(pub, project)
    existing = _duplicate(pub)
    if existing is not None:
        return existing, None
    return None, _check_release_rules(pub, project)
