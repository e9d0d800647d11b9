import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "indexsite.settings")
application = get_wsgi_application()

# Only processes that serve requests load this module (gunicorn, runserver): their queries are
# bounded by DATABASE_STATEMENT_TIMEOUT_MS; management commands and migrations are not.
from packages_app import statement_timeout  # noqa: E402 - needs the app registry set up above

statement_timeout.bound_web_requests()
