"""Django admin for notifications: team webhooks (the URL checked as on the team page, the
secret shown once on add), the outbox (read-only, with "Send now"), members' choices."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from projects.audit import AuditedModelAdmin
from projects.models import Event, Notification, NotificationPreference, TeamWebhook
from projects.notifications.delivery import notifications_retry_now
from projects.notifications.webhooks import WebhookURLError, new_secret, webhook_url_check


class TeamWebhookAdminForm(forms.ModelForm):
    events = forms.MultipleChoiceField(choices=Event.choices, widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = TeamWebhook
        fields = ["team", "name", "url", "events", "active"]

    def clean_url(self) -> str:
        try:
            return webhook_url_check(self.cleaned_data["url"])
        except WebhookURLError as exc:
            raise forms.ValidationError(exc.message) from exc


@admin.register(TeamWebhook)
class TeamWebhookAdmin(AuditedModelAdmin):
    form = TeamWebhookAdminForm
    list_display = ["name", "team", "active", "created_at"]
    list_filter = ["active", "team"]
    search_fields = ["name", "team__name"]

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if not change:
            obj.secret = new_secret()
            obj.created_by = request.user
        super().save_model(request, obj, form, change)
        if not change:
            messages.warning(
                request,
                f"Signing secret of {obj.name} (shown only this once): {obj.secret}",
            )


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["created_at", "event", "channel", "recipient", "state", "attempts"]
    list_filter = ["state", "event", "channel"]
    search_fields = ["event_key", "recipient", "subject"]
    actions = ["send_now"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description="Send now (unsent rows: one more try, by the worker)")
    def send_now(self, request: HttpRequest, queryset: QuerySet[Notification]) -> None:
        count = notifications_retry_now(
            notification_ids=list(queryset.values_list("pk", flat=True))
        )
        messages.info(request, f"{count} queued for sending.")


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(admin.ModelAdmin):
    list_display = ["user", "event", "email", "updated_at"]
    list_filter = ["event", "email"]
    search_fields = ["user__username"]
