import pytest

from tests.factories import UserFactory


@pytest.fixture
def user(db):
    return UserFactory(username="alice")


@pytest.fixture
def admin_user(db):
    return UserFactory(username="root", is_staff=True, is_superuser=True)


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture(autouse=True)
def fresh_page_store():
    """Built simple pages are keyed by serial; test databases reuse serials, production never does."""
    from packages_app.pages import store
    from tests.caches import empty_own_cache

    store.forget_everything()
    empty_own_cache()
    yield
    store.forget_everything()
