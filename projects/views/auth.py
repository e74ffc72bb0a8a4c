"""Logging in, rate limited per client address and per username (projects/ratelimits.py)."""

from __future__ import annotations

from django.contrib.auth.views import LoginView
from django.http import HttpRequest, HttpResponse

from projects.ratelimits import LOGIN_LIMITED, login_limited


class RateLimitedLoginView(LoginView):
    """Django's LoginView, answering 429 without checking the password once an address or
    a username has tried too often (SEEDANCE_LOGIN_RATE)."""

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if login_limited(request):
            # Not form.is_valid(): that would check the password, which is what we refuse.
            context = self.get_context_data(
                form=self.get_form_class()(request), limited=LOGIN_LIMITED
            )
            return self.render_to_response(context, status=429)
        return super().post(request, *args, **kwargs)
