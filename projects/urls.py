"""URLs of the domain app. Object ids are UUIDs; callbacks carry a per-task secret."""

from django.urls import path

from projects.views import generations, projects, spend

app_name = "projects"

urlpatterns = [
    path("", projects.project_list, name="project_list"),
    path("projects/new/", projects.project_new, name="project_new"),
    path("p/<uuid:project_id>/", projects.project_detail, name="project_detail"),
    path("p/<uuid:project_id>/generate/", generations.generation_new, name="generation_new"),
    path(
        "p/<uuid:project_id>/generate/estimate/",
        generations.generation_estimate,
        name="generation_estimate",
    ),
    path("p/<uuid:project_id>/spend/", spend.project_spend, name="project_spend"),
    path("t/<uuid:team_id>/spend/", spend.team_spend, name="team_spend"),
    path("spend/", spend.spend_index, name="spend_index"),
    path("g/<uuid:task_id>/", generations.generation_detail, name="generation_detail"),
    path("g/<uuid:task_id>/download/", generations.generation_download, name="generation_download"),
    path("g/<uuid:task_id>/cancel/", generations.generation_cancel, name="generation_cancel"),
    path(
        "callbacks/<str:task_id>/<str:token>/",
        generations.generation_callback,
        name="generation_callback",
    ),
]
