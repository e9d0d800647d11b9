"""factory_boy factories. They write rows directly, for setting the scene;
tests of behaviour go through the services or HTTP."""

import hashlib

import factory
from django.contrib.auth import get_user_model
from django.db.models import F

from packages_app import naming, versions
from packages_app.models import File, PackageType, Project, Release


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.invalid")
    password = factory.django.Password("correct horse battery staple")


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Project

    name = factory.Sequence(lambda n: f"Project_{n}")
    normalized_name = factory.LazyAttribute(lambda p: naming.normalize_name(p.name))


class ReleaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Release

    project = factory.SubFactory(ProjectFactory)
    version = factory.Sequence(lambda n: f"1.{n}")
    canonical_version = factory.LazyAttribute(lambda r: naming.canonical_version(r.version))
    sort_key = factory.LazyAttribute(lambda r: versions.sort_key(r.version))
    is_prerelease = factory.LazyAttribute(lambda r: versions.is_prerelease(r.version))
    summary = "A test release"


def _digest(algorithm: str, text: str) -> str:
    return hashlib.new(algorithm, text.encode()).hexdigest()


class FileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = File

    release = factory.SubFactory(ReleaseFactory)
    filename = factory.LazyAttribute(
        lambda f: f"{naming.wheel_name_part(f.release.project.name)}-{f.release.version}-py3-none-any.whl"
    )
    packagetype = PackageType.BDIST_WHEEL
    python_version = "py3"
    size = 1234
    sha256_digest = factory.LazyAttribute(lambda f: _digest("sha256", f.filename))
    md5_digest = factory.LazyAttribute(lambda f: _digest("md5", f.filename))
    blake2_256_digest = factory.LazyAttribute(
        lambda f: hashlib.blake2b(f.filename.encode(), digest_size=32).hexdigest()
    )
    path = factory.LazyAttribute(lambda f: f"{f.blake2_256_digest[:2]}/{f.blake2_256_digest[2:]}/{f.filename}")

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        """The row, and its size on the project's running total, as the file services keep it."""
        file = super()._create(model_class, *args, **kwargs)
        Project.objects.filter(pk=file.release.project_id).update(total_size=F("total_size") + file.size)
        file.release.project.total_size += file.size
        return file


def project_with_releases(name: str, release_count: int) -> Project:
    """``name`` with ``release_count`` releases, each a wheel and an sdist, and three maintainers:
    a project big enough to show a page's query count growing with it."""
    from packages_app.services import roles

    project = ProjectFactory(name=name, last_serial=release_count)
    for release in ReleaseFactory.create_batch(release_count, project=project):
        FileFactory(release=release)
        FileFactory(release=release, filename=f"{name}-{release.version}.tar.gz", packagetype="sdist")
    for user in UserFactory.create_batch(3):
        roles.grant_role(project, user, "Maintainer")
    return project
