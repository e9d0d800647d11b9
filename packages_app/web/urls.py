"""The web UI's routes (mounted at the root by indexsite/urls.py; see packages_app.web for the prefixes)."""

from django.urls import path

from packages_app.web import manage, tokens, views, yanks

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("search/", views.search_page, name="search"),
    path("project/<str:name>/", views.project_page, name="project"),
    path("project/<str:name>/manage/", manage.manage_project, name="manage"),
    path("project/<str:name>/<str:version>/", views.release_page, name="release"),
    path("project/<str:name>/<str:version>/yank/", yanks.yank, name="yank"),
    path("project/<str:name>/<str:version>/unyank/", yanks.unyank, name="unyank"),
    path("account/login/", views.SignInView.as_view(), name="sign-in"),
    path("account/logout/", views.SignOutView.as_view(), name="sign-out"),
    path("account/projects/", views.my_projects, name="my-projects"),
    path("account/tokens/", tokens.token_list, name="tokens"),
    path("account/tokens/<str:key_id>/revoke/", tokens.revoke, name="token-revoke"),
]
