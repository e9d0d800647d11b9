"""The admin's webhooks: listed with their delivery state, added (the secret shown once), removed.

Real Django permissions decide who comes in: view, add and delete on "webhook"; change for the
actions (pause, resume, retry now); "Can add a webhook for every project" for index-wide ones.
A superuser sees and manages every webhook; anyone else those of the projects they are an
Owner of, and the index-wide ones they made. Nobody edits one: another URL or other actions is
another webhook (with its own secret). Failed attempts are listed under "Webhook deliveries".
"""

from __future__ import annotations

from typing import cast

from django import forms
from django.contrib import admin, messages
from django.db.models import F, Q, Subquery
from django.db.models.functions import Coalesce, Greatest
from django.template.response import TemplateResponse
from django.utils.text import Truncator

from packages_app.models import JournalEntry, Webhook, WebhookDelivery
from packages_app.owners_admin import FormForRequestUser, owned_projects
from packages_app.services import webhooks as webhook_services
from packages_app.services.errors import ServiceError

INDEX_WIDE_PERMISSION = "packages_app.add_index_wide_webhook"


def visible_hooks(user, hooks):
    if user.is_superuser:
        return hooks
    owned = owned_projects(user).values("normalized_name")
    return hooks.filter(Q(project_name__in=owned) | Q(project_name="", created_by=user))


class WebhookAddForm(forms.ModelForm):
    url = forms.URLField(
        assume_scheme="https", max_length=2000, help_text="Where the events are POSTed, signed (docs/webhooks.md)."
    )
    kinds = forms.MultipleChoiceField(
        choices=[(kind, kind) for kind in sorted(webhook_services.DELIVERABLE_KINDS)],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="The actions to send (docs/api.md); none chosen sends every one.",
    )

    class Meta:
        model = Webhook
        fields = ["project"]  # the URL and the actions are declared above and given to the service

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        if user is None or "project" not in self.fields:
            return  # a webhook's own page: read-only
        project = cast(forms.ModelChoiceField, self.fields["project"])
        project.queryset = owned_projects(user).order_by("normalized_name")
        if not user.has_perm(INDEX_WIDE_PERMISSION):
            self.fields["project"].required = True
            self.fields["project"].help_text = "One of the projects you are an Owner of."

    def clean_url(self):
        try:
            return webhook_services.checked_url(self.cleaned_data["url"])
        except ServiceError as refusal:
            raise forms.ValidationError(str(refusal)) from refusal


_ATTEMPT_FIELDS = ["attempted_at", "serial", "status_code", "error", "delivery_id"]


class DeliveryInline(admin.TabularInline):
    model = WebhookDelivery
    fields = ["attempted_at", "serial", "status_code", "error", "delivery_id"]
    readonly_fields = _ATTEMPT_FIELDS
    extra = 0
    max_num = 0
    can_delete = False
    verbose_name_plural = "failed attempts (newest first)"


def _lag():
    last = JournalEntry.objects.order_by("-id").values("id")[:1]
    return Greatest(Coalesce(Subquery(last), 0) - F("last_delivered_serial"), 0)


@admin.register(Webhook)
class WebhookAdmin(FormForRequestUser, admin.ModelAdmin):
    form = WebhookAddForm
    list_display = [
        "id",
        "url",
        "scope",
        "actions_sent",
        "active",
        "lag",
        "failure_count",
        "next_attempt_at",
        "error",
        "last_success_at",
        "created_by",
    ]
    list_display_links = ["id", "url"]
    list_filter = ["active"]
    list_select_related = ["created_by"]
    search_fields = ["url", "project_name"]
    readonly_fields = [
        "url",
        "scope",
        "actions_sent",
        "active",
        "created_by",
        "created",
        "last_delivered_serial",
        "lag",
        "failure_count",
        "next_attempt_at",
        "last_error",
        "last_success_at",
    ]
    inlines = [DeliveryInline]
    actions = ["retry_now", "pause", "resume"]

    def get_queryset(self, request):
        hooks = super().get_queryset(request).annotate(lag=_lag())
        return visible_hooks(request.user, hooks)

    def get_fields(self, request, obj=None):
        return ["url", "project", "kinds"] if obj is None else self.readonly_fields

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    def has_change_permission(self, request, obj=None):
        # The actions need it; a webhook's own page is read-only to everyone.
        return super().has_change_permission(request, obj) and obj is None

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # one at a time, from its page, through the service
        return actions

    @admin.display(description="Project")
    def scope(self, obj) -> str:
        return obj.project_name or "every project"

    @admin.display(description="Actions")
    def actions_sent(self, obj) -> str:
        return ", ".join(obj.kinds) or "all"

    @admin.display(description="Lag", ordering="lag")
    def lag(self, obj) -> int:
        """Journal serials it is behind: the journal's last serial minus its last delivered one."""
        return obj.lag

    @admin.display(description="Last error")
    def error(self, obj) -> str:
        return Truncator(obj.last_error).chars(80)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        hook, secret = webhook_services.add_webhook(
            data["url"], project=data.get("project"), kinds=data.get("kinds") or [], user=request.user
        )
        obj.pk = hook.pk
        request._new_webhook_secret = secret

    def save_related(self, request, form, formsets, change):
        pass  # the service made the row

    def response_add(self, request, obj, post_url_continue=None):
        secret = getattr(request, "_new_webhook_secret", None)
        if secret is None:
            return super().response_add(request, obj, post_url_continue)
        # As a new token's: the secret goes out in this answer only (not in a session, not in
        # a message cookie), and never into a cache.
        context = {
            **self.admin_site.each_context(request),
            "title": "Webhook created",
            "hook": Webhook.objects.get(pk=obj.pk),
            "secret": secret,
            "opts": self.model._meta,
        }
        response = TemplateResponse(request, "admin/packages_app/webhook_created.html", context)
        response["Cache-Control"] = "no-store"
        return response

    def delete_model(self, request, obj):
        webhook_services.remove_webhook(obj, user=request.user)

    def get_deleted_objects(self, objs, request):
        # Its failed attempts go with it (listed on the confirmation page): no permission of
        # their own is needed for that, as nobody deletes attempts on their own.
        deleted, counts, _, protected = super().get_deleted_objects(objs, request)
        return deleted, counts, set(), protected

    @admin.action(permissions=["change"], description="Retry selected webhooks now")
    def retry_now(self, request, queryset):
        count = webhook_services.retry_now(list(queryset))
        self.message_user(request, f"{count} webhook(s) will be tried on the worker's next pass.", messages.SUCCESS)

    @admin.action(permissions=["change"], description="Pause selected webhooks")
    def pause(self, request, queryset):
        count = webhook_services.set_active(list(queryset), False)
        self.message_user(request, f"Paused {count} webhook(s).", messages.SUCCESS)

    @admin.action(permissions=["change"], description="Resume selected webhooks (they get what they missed)")
    def resume(self, request, queryset):
        count = webhook_services.set_active(list(queryset), True)
        self.message_user(request, f"Resumed {count} webhook(s).", messages.SUCCESS)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    """Failed delivery attempts, newest first (the newest 50 of each webhook are kept)."""

    list_display = ["attempted_at", "webhook", "serial", "status_code", "error", "delivery_id"]
    readonly_fields = ["attempted_at", "webhook", "serial", "status_code", "error", "delivery_id"]
    list_select_related = ["webhook"]
    list_filter = ["status_code"]
    search_fields = ["error", "webhook__url", "delivery_id"]

    def get_queryset(self, request):
        attempts = super().get_queryset(request)
        if request.user.is_superuser:
            return attempts
        return attempts.filter(webhook__in=visible_hooks(request.user, Webhook.objects.all()))

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
