"""Root URLconf: the domain app, authentication, Django admin, the health check and the
team API."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from projects.access import MEMBER, min_role
from projects.views.auth import RateLimitedLoginView
from projects.views.health import healthz
from projects.views.media import signed_media

urlpatterns = [
    path("login/", RateLimitedLoginView.as_view(), name="login"),
    path("logout/", min_role(MEMBER)(auth_views.LogoutView.as_view()), name="logout"),
    path("admin/", admin.site.urls),
    path("media/s/<str:token>", signed_media, name="signed_media"),
    path("healthz", healthz, name="healthz"),
    # Browsers ask for /favicon.ico on pages without our <link rel="icon"> (the admin's).
    path(
        "favicon.ico",
        login_not_required(RedirectView.as_view(url=static("favicon.svg"), permanent=True)),
        name="favicon",
    ),
    # The team API, Ark-compatible (projects/api/): API keys, not sessions.
    path("api/v3/", include(("projects.api.urls", "arkapi"), namespace="arkapi")),
    path("", include("projects.urls")),
]
