import pytest

from packages_app.models import JournalEntry


class JournalWatch:
    """Counts journal entries written since a mark."""

    def __init__(self):
        self.mark = self._last()

    @staticmethod
    def _last() -> int:
        return JournalEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0

    def new_entries(self):
        entries = list(JournalEntry.objects.filter(id__gt=self.mark).order_by("id"))
        self.mark = self._last()
        return entries


@pytest.fixture
def journal(db):
    return JournalWatch()


@pytest.fixture
def stored_file():
    from packages_app.services.files import StoredFile

    def make(filename: str, sha: str = "a", python_version: str = "py3", packagetype: str = "bdist_wheel"):
        return StoredFile(
            filename=filename,
            packagetype=packagetype,
            python_version=python_version,
            size=10,
            sha256_digest=sha * 64,
            md5_digest=sha * 32,
            blake2_256_digest=sha * 64,
            path=f"{sha * 2}/{filename}",
        )

    return make
