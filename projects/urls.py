"""URLs of the domain app. Object ids are UUIDs; callbacks carry a per-task secret."""

from django.urls import path

from projects.views import generations, projects

app_name = "projects"

urlpatterns = [
    path("", projects.project_list, name="project_list"),
    path("projects/new/", projects.project_new, name="project_new"),
    path("p/<uuid:project_id>/", projects.project_detail, name="project_detail"),
    path("p/<uuid:project_id>/generate/", generations.generation_new, name="generation_new"),
    path("g/<uuid:task_id>/", generations.generation_detail, name="generation_detail"),
    path("g/<uuid:task_id>/download/", generations.generation_download, name="generation_download"),
    path("g/<uuid:task_id>/cancel/", generations.generation_cancel, name="generation_cancel"),
    path(
        "callbacks/<str:task_id>/<str:token>/",
        generations.generation_callback,
        name="generation_callback",
    ),
]
