"""App configs of the project package itself."""

from django.contrib.admin.apps import AdminConfig


class SeedanceAdminConfig(AdminConfig):
    """django.contrib.admin with seedance_web.admin.SeedanceAdminSite as `admin.site`."""

    default_site = "seedance_web.admin.SeedanceAdminSite"
