from django.core.management.base import BaseCommand

from packages_app.pages import store


class Command(BaseCommand):
    help = (
        "Delete every stored page (on disk, and in Redis when configured); each is built again on its next "
        "request. Run after restoring a database backup: serials repeat, and a page stored under one would be "
        "served for a different state."
    )

    def handle(self, *args, **options):
        before = store.usage()
        store.forget_everything(shared=True)
        self.stdout.write(f"Deleted {before.files} stored page files ({before.bytes / 1024**2:.1f} MiB).")
