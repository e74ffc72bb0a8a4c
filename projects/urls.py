"""URLs of the domain app. Object ids are UUIDs; callbacks carry a per-task secret."""

from django.urls import path

from projects.views import assets, generations, projects

app_name = "projects"

urlpatterns = [
    path("", projects.project_list, name="project_list"),
    path("projects/new/", projects.project_new, name="project_new"),
    path("p/<uuid:project_id>/", projects.project_detail, name="project_detail"),
    path("p/<uuid:project_id>/generate/", generations.generation_new, name="generation_new"),
    path("p/<uuid:project_id>/assets/", assets.asset_library, name="asset_library"),
    path("p/<uuid:project_id>/assets/upload/", assets.asset_upload, name="asset_upload"),
    path("a/<uuid:asset_id>/", assets.asset_detail, name="asset_detail"),
    path("a/<uuid:asset_id>/delete/", assets.asset_remove, name="asset_delete"),
    path("g/<uuid:task_id>/", generations.generation_detail, name="generation_detail"),
    path("g/<uuid:task_id>/download/", generations.generation_download, name="generation_download"),
    path("g/<uuid:task_id>/cancel/", generations.generation_cancel, name="generation_cancel"),
    path(
        "g/<uuid:task_id>/last-frame/",
        generations.generation_use_last_frame,
        name="generation_use_last_frame",
    ),
    path(
        "callbacks/<str:task_id>/<str:token>/",
        generations.generation_callback,
        name="generation_callback",
    ),
]
