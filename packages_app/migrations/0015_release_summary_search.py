"""PostgreSQL: a GIN index on the releases' summary documents, for the web UI's search.

The expression is the one ``packages_app.web.search.summary_matches`` builds (Django's
``SearchVector("summary", config="english")``), so PostgreSQL uses the index instead of reading
every release. SQLite searches by substring and gets nothing here.
"""

from django.db import migrations

INDEX = "release_summary_search_idx"
CREATE = (
    f"CREATE INDEX IF NOT EXISTS {INDEX} ON packages_app_release "
    "USING gin (to_tsvector('english'::regconfig, COALESCE(summary, ''::text)))"
)
DROP = f"DROP INDEX IF EXISTS {INDEX}"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("packages_app", "0014_webhooks")]

    operations = [migrations.RunPython(create, drop)]
