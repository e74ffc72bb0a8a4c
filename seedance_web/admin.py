"""The Django admin site, with its login rate limited like the site's own."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache

from projects.ratelimits import LOGIN_LIMITED, login_limited


class SeedanceAdminSite(admin.AdminSite):
    """`admin.site` for this project (seedance_web.apps.SeedanceAdminConfig makes it the
    default, so every `@admin.register` lands here)."""

    site_header = "seedance-web administration"
    site_title = "seedance-web admin"

    @method_decorator(never_cache)
    @login_not_required
    def login(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        if request.method == "POST" and login_limited(request):
            return HttpResponse(LOGIN_LIMITED, status=429, content_type="text/plain")
        return super().login(request, extra_context)
