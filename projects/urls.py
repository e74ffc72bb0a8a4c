"""URLs of the domain app. Object ids are UUIDs; callbacks carry a per-task secret.

Every view here declares the role it needs (`@min_role`, projects/access.py), and
tests/test_url_access.py requests every pattern as an outsider and as a member without the
role. A new URL keyword argument must be added to that test's KWARGS.
"""

from django.urls import path

from projects.api import views as api_keys
from projects.views import (
    assets,
    drafts,
    generations,
    notifications,
    projects,
    reviews,
    spend,
    storyboards,
    teams,
    variations,
)

app_name = "projects"

urlpatterns = [
    path("", projects.project_list, name="project_list"),
    path("projects/new/", projects.project_new, name="project_new"),
    path("p/<uuid:project_id>/", projects.project_detail, name="project_detail"),
    path("p/<uuid:project_id>/access/", projects.project_access, name="project_access"),
    path("p/<uuid:project_id>/generate/", generations.generation_new, name="generation_new"),
    path(
        "p/<uuid:project_id>/generate/estimate/",
        generations.generation_estimate,
        name="generation_estimate",
    ),
    path("p/<uuid:project_id>/spend/", spend.project_spend, name="project_spend"),
    path("t/<uuid:team_id>/spend/", spend.team_spend, name="team_spend"),
    path("spend/", spend.spend_index, name="spend_index"),
    path("p/<uuid:project_id>/assets/", assets.asset_library, name="asset_library"),
    path("p/<uuid:project_id>/assets/upload/", assets.asset_upload, name="asset_upload"),
    path("a/<uuid:asset_id>/", assets.asset_detail, name="asset_detail"),
    path("a/<uuid:asset_id>/delete/", assets.asset_remove, name="asset_delete"),
    path("g/<uuid:task_id>/", generations.generation_detail, name="generation_detail"),
    path("g/<uuid:task_id>/download/", generations.generation_download, name="generation_download"),
    path("g/<uuid:task_id>/cancel/", generations.generation_cancel, name="generation_cancel"),
    path("g/<uuid:task_id>/delete/", generations.generation_delete, name="generation_delete"),
    path("g/<uuid:task_id>/review/", reviews.generation_review, name="generation_review"),
    path("g/<uuid:task_id>/final/", drafts.generation_render_final, name="generation_final"),
    path("review/", reviews.review_queue, name="review_queue"),
    path("v/<uuid:batch_id>/", variations.variation_compare, name="variation_compare"),
    path(
        "v/<uuid:batch_id>/pick/<uuid:task_id>/",
        variations.variation_pick_take,
        name="variation_pick",
    ),
    path("t/<uuid:team_id>/", teams.team_detail, name="team_detail"),
    path("t/<uuid:team_id>/members/", teams.team_member_save, name="team_member_save"),
    path("t/<uuid:team_id>/members/remove/", teams.team_member_delete, name="team_member_delete"),
    path("t/<uuid:team_id>/settings/", teams.team_settings, name="team_settings"),
    path("t/<uuid:team_id>/audit/", teams.team_audit, name="team_audit"),
    path("t/<uuid:team_id>/webhooks/", notifications.team_webhook_add, name="team_webhook_add"),
    path(
        "t/<uuid:team_id>/webhooks/<uuid:webhook_id>/",
        notifications.team_webhook_save,
        name="team_webhook_save",
    ),
    path("notifications/", notifications.notification_settings, name="notification_settings"),
    path("keys/", api_keys.api_keys, name="api_keys"),
    path("keys/<uuid:key_id>/revoke/", api_keys.api_key_revoke_view, name="api_key_revoke"),
    path(
        "g/<uuid:task_id>/last-frame/",
        generations.generation_use_last_frame,
        name="generation_use_last_frame",
    ),
    path(
        "p/<uuid:project_id>/storyboards/new/",
        storyboards.storyboard_new,
        name="storyboard_new",
    ),
    path("s/<uuid:storyboard_id>/", storyboards.storyboard_detail, name="storyboard_detail"),
    path("s/<uuid:storyboard_id>/shots/", storyboards.shot_add, name="shot_add"),
    path("s/<uuid:storyboard_id>/order/", storyboards.shots_order, name="shots_order"),
    path("s/<uuid:storyboard_id>/assemble/", storyboards.cut_assemble, name="cut_assemble"),
    path("shot/<uuid:shot_id>/edit/", storyboards.shot_edit, name="shot_edit"),
    path("shot/<uuid:shot_id>/delete/", storyboards.shot_remove, name="shot_delete"),
    path("shot/<uuid:shot_id>/submit/", storyboards.shot_submit, name="shot_submit"),
    path("shot/<uuid:shot_id>/take/", storyboards.shot_take, name="shot_take"),
    path("cut/<uuid:cut_id>/download/", storyboards.cut_download, name="cut_download"),
    path("cut/<uuid:cut_id>/review/", storyboards.cut_review, name="cut_review"),
    path(
        "callbacks/<str:task_id>/<str:token>/",
        generations.generation_callback,
        name="generation_callback",
    ),
]
