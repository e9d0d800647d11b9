"""PostgreSQL: a trigram index on the projects' normalised names, for the web UI's search.

The search matches names by substring (``acme-d`` finds ``acme-data``), which no b-tree index
serves; ``pg_trgm``'s GIN index does. ``pg_trgm`` ships with PostgreSQL and is a trusted
extension (a database owner may create it), but a managed server may still refuse it: then the
search reads the names one by one as before, and nothing else changes. SQLite gets nothing here.
"""

from django.db import DatabaseError, migrations, transaction

INDEX = "project_name_trigram_idx"


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    try:
        with transaction.atomic(using=schema_editor.connection.alias):  # a savepoint: a refusal is not fatal
            schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except DatabaseError:
        return
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON packages_app_project USING gin (normalized_name gin_trgm_ops)"
    )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("packages_app", "0016_api_token_verbose_names")]

    operations = [migrations.RunPython(create, drop)]
