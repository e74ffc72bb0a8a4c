"""Django admin: teams and roles, projects and their members, assets, generation tasks and
their recovery, reviews and the audit trail (read-only). Edits to teams and projects are
audited (AuditedModelAdmin); so must be those to budgets, price rules and gateway settings."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

# Registers the notification models' admins (webhooks, the outbox, members' choices).
import projects.admin_notifications  # noqa: F401
from projects.audit import AuditedModelAdmin
from projects.exceptions import ApplicationError
from projects.models import (
    Asset,
    AuditEvent,
    GatewayStatus,
    GenerationReference,
    GenerationTask,
    Membership,
    Project,
    ProjectMember,
    Review,
    TaskEvent,
    Team,
    VariationBatch,
)
from projects.money.admin import VendorCostFilter, task_money_columns
from projects.money.spend import with_money
from projects.selectors import generation_tasks_stuck
from projects.services import gateway_status, recovery
from projects.services.assets import assets_purge_released
from projects.services.cancel import generation_task_cancel


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 1
    autocomplete_fields = ["user"]


@admin.register(Team)
class TeamAdmin(AuditedModelAdmin):
    list_display = ["name", "slug", "allow_self_review", "members_manage_all", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]


class ProjectMemberInline(admin.TabularInline):
    model = ProjectMember
    extra = 1
    autocomplete_fields = ["user"]


@admin.register(Project)
class ProjectAdmin(AuditedModelAdmin):
    list_display = ["name", "team", "slug", "restricted", "created_at"]
    list_filter = ["team", "restricted"]
    search_fields = ["name", "slug"]
    inlines = [ProjectMemberInline]


@admin.register(Asset)
class AssetAdmin(admin.ModelAdmin):
    """Admins may edit a name and enter an AllToken portrait asset id (AllToken Portrait
    guide); the file and its probed facts are read-only."""

    list_display = [
        "name",
        "kind",
        "project",
        "size_bytes",
        "duration_s",
        "alltoken_asset_id",
        "created_at",
        "deleted_at",
    ]
    list_filter = ["kind", "team"]
    search_fields = ["name", "original_filename", "alltoken_asset_id"]
    readonly_fields = [
        "team",
        "project",
        "kind",
        "file",
        "poster",
        "source_task",
        "uploaded_by",
        "deleted_at",
        "sha256",
        "size_bytes",
        "width",
        "height",
        "duration_s",
        "fps",
        "codec",
        "container",
        "content_type",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # An asset is a probed upload (the library page, `generate --image`); a row made
        # here would have no file, no project and no facts.
        return False


class GenerationReferenceInline(admin.TabularInline):
    model = GenerationReference
    extra = 0
    can_delete = False
    readonly_fields = ["position", "role", "asset"]

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class TaskEventInline(admin.TabularInline):
    model = TaskEvent
    extra = 0
    can_delete = False
    readonly_fields = ["created_at", "kind", "message", "data"]

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class StuckFilter(admin.SimpleListFilter):
    """Tasks that need a look (selectors.generation_tasks_stuck), or only those whose submit
    is unconfirmed."""

    title = "stuck"
    parameter_name = "stuck"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list:
        return [
            ("yes", "Stuck (late, unsent, unpolled or unconfirmed)"),
            ("unconfirmed", "Submit unconfirmed"),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "yes":
            return queryset.filter(pk__in=generation_tasks_stuck().values("pk"))
        if self.value() == "unconfirmed":
            return queryset.filter(status=GenerationTask.Status.SUBMIT_UNKNOWN)
        return queryset


@admin.register(GenerationTask)
class GenerationTaskAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "project",
        "provider",
        "model",
        "status",
        "review_state",
        "upstream_task_id",
        "created_by",
        "created_at",
        "next_poll_at",
        *task_money_columns(),
    ]
    list_filter = [StuckFilter, "status", "review_state", "provider", "model", VendorCostFilter]
    search_fields = ["id", "upstream_task_id", "prompt"]
    date_hierarchy = "created_at"
    inlines = [GenerationReferenceInline, TaskEventInline]
    actions = [
        "poll_now",
        "reconcile_now",
        "cancel_upstream",
        "resubmit_unconfirmed",
        "adopt_upstream_id",
        "mark_failed",
    ]
    exclude = ["callback_token"]
    readonly_fields = [
        f.name
        for f in GenerationTask._meta.fields
        if f.name not in ("upstream_task_id", "callback_token")
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[GenerationTask]:
        return with_money(super().get_queryset(request))

    def get_list_display(self, request: HttpRequest) -> list:
        columns = list(super().get_list_display(request))
        if request.GET.get(VendorCostFilter.parameter_name):  # listing the differences
            columns += ["vendor_cost", "usage", "cost_note"]
        return columns

    def delete_model(self, request: HttpRequest, obj: GenerationTask) -> None:
        super().delete_model(request, obj)
        assets_purge_released()  # assets removed from a library and kept only for this task

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[GenerationTask]) -> None:
        super().delete_queryset(request, queryset)
        assets_purge_released()

    @admin.action(description="Retry now: send, check or copy at the next sweep")
    def poll_now(self, request: HttpRequest, queryset: QuerySet[GenerationTask]) -> None:
        tasks = list(queryset.select_related("project__team"))
        count = sum(recovery.generation_task_poll_now(task=t, actor=request.user) for t in tasks)
        skipped = len(tasks) - count
        self.message_user(
            request,
            f"{count} task(s) will be handled within seconds."
            + (f" {skipped} had already ended." if skipped else ""),
            messages.SUCCESS if count else messages.WARNING,
        )

    @admin.action(description="Reconcile now (submit unconfirmed): ask the gateway")
    def reconcile_now(self, request: HttpRequest, queryset: QuerySet[GenerationTask]) -> None:
        for task in queryset.select_related("project__team"):
            try:
                outcome = recovery.generation_task_reconcile_now(task=task, actor=request.user)
            except ApplicationError as exc:
                self.message_user(request, f"Task {task.pk}: {exc.message}", messages.WARNING)
            else:
                self.message_user(request, f"Task {task.pk}: {outcome}.")

    @admin.action(description="Cancel upstream (where the gateway allows it)")
    def cancel_upstream(self, request: HttpRequest, queryset: QuerySet[GenerationTask]) -> None:
        for task in queryset.select_related("project__team"):
            try:
                outcome = generation_task_cancel(task=task, user=request.user)
            except ApplicationError as exc:
                self.message_user(request, f"Task {task.pk}: {exc.message}", messages.WARNING)
            else:
                self.message_user(request, f"Task {task.pk}: {outcome}")

    @admin.action(description="Resend an unconfirmed submit (checked: nothing upstream)")
    def resubmit_unconfirmed(
        self, request: HttpRequest, queryset: QuerySet[GenerationTask]
    ) -> None:
        self._each(
            request,
            queryset,
            lambda t: recovery.generation_task_resubmit(task=t, actor=request.user),
        )

    @admin.action(description="Adopt the upstream task id typed into the task")
    def adopt_upstream_id(self, request: HttpRequest, queryset: QuerySet[GenerationTask]) -> None:
        self._each(
            request,
            queryset,
            lambda t: recovery.generation_task_adopt_upstream(
                task=t, upstream_task_id=t.upstream_task_id, actor=request.user
            ),
        )

    @admin.action(description="Mark failed and release the hold")
    def mark_failed(self, request: HttpRequest, queryset: QuerySet[GenerationTask]) -> None:
        tasks = list(queryset.select_related("project__team"))
        count = sum(recovery.generation_task_fail(task=t, actor=request.user) for t in tasks)
        self.message_user(request, f"{count} task(s) marked failed.")

    def _each(self, request: HttpRequest, queryset: QuerySet[GenerationTask], action) -> None:
        done = 0
        for task in queryset.select_related("project__team"):
            try:
                action(task)
                done += 1
            except ApplicationError as exc:
                self.message_user(request, f"Task {task.pk}: {exc.message}", messages.WARNING)
        if done:
            self.message_user(request, f"{done} task(s) updated.")


class ReadOnlyAdmin(admin.ModelAdmin):
    """History is written by services only: viewable here, never added, edited or deleted."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Review)
class ReviewAdmin(ReadOnlyAdmin):
    list_display = ["task", "decision", "reviewer", "created_at"]
    list_filter = ["decision"]
    search_fields = ["comment", "reviewer__username", "task__prompt"]
    date_hierarchy = "created_at"


@admin.register(VariationBatch)
class VariationBatchAdmin(ReadOnlyAdmin):
    """Variation batches (services/variations.py): read-only; members pick a take on the
    batch's compare page, and each take is a generation task of its own."""

    list_display = ["created_at", "project", "created_by", "count", "pick"]
    list_filter = ["project__team"]
    search_fields = ["project__name", "created_by__username"]
    date_hierarchy = "created_at"
    list_select_related = ["project", "created_by", "pick"]


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "actor_name", "action", "target_repr", "team"]
    list_filter = ["action", "team"]
    search_fields = ["actor_name", "action", "target_repr", "target_id"]
    date_hierarchy = "created_at"


@admin.register(GatewayStatus)
class GatewayStatusAdmin(ReadOnlyAdmin):
    """What each gateway last did (services/gateway_status.py): read-only; a refused key
    clears itself at the gateway's next success, or here once the key is fixed."""

    list_display = [
        "provider",
        "state",
        "last_success_at",
        "last_error_at",
        "last_error_kind",
        "last_error_status",
        "last_error_message",
        "key_refused_since",
    ]
    actions = ["clear_refused_key"]

    @admin.display(description="state")
    def state(self, obj: GatewayStatus) -> str:
        return gateway_status.gateway_state(obj)

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return request.user.is_superuser  # for the action; every field stays read-only

    def get_readonly_fields(self, request: HttpRequest, obj: object = None) -> list[str]:
        return [field.name for field in GatewayStatus._meta.fields]

    @admin.action(description="The key was fixed: clear the refused-key warning")
    def clear_refused_key(self, request: HttpRequest, queryset: QuerySet[GatewayStatus]) -> None:
        count = 0
        for status in queryset:
            count += gateway_status.gateway_key_refusal_clear(
                provider=status.provider, actor=request.user
            )
        self.message_user(request, f"{count} warning(s) cleared.")


from projects.api import admin as _api_admin  # noqa: E402,F401 (API keys; after the models above)
