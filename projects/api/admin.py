"""Django admin for API keys: staff see every key and can revoke one (never see or make a
secret: keys are made by their members on the API keys page). The library's own `APIKey`
model is not used (projects/models/api_keys.py), so its admin is taken off the site."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from rest_framework_api_key.models import APIKey

from projects.api.keys import api_key_revoke
from projects.models import ApiKey

if admin.site.is_registered(APIKey):
    admin.site.unregister(APIKey)


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "team", "prefix", "created", "expiry_date", "last_used_at"]
    list_filter = ["revoked", "team"]
    search_fields = ["name", "prefix", "user__username", "team__name"]
    list_select_related = ["user", "team"]
    readonly_fields = [
        "name",
        "user",
        "team",
        "projects",
        "prefix",
        "created",
        "expiry_date",
        "last_used_at",
        "revoked",
        "revoked_at",
        "revoked_by",
    ]
    exclude = ["hashed_key"]
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: ApiKey | None = None) -> bool:
        return False  # revoke instead: its tasks and audit rows name it

    @admin.action(description="Revoke the selected keys")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        for key in queryset.select_related("team", "user"):
            messages.info(request, api_key_revoke(key=key, user=request.user))
