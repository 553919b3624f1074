"""The admin site, with failed sign-ins throttled like the API's token endpoint."""

from django.contrib import admin
from django.http import HttpResponse

from annotations.api.throttles import FailedSignInThrottle


class AtlasAdminSite(admin.AdminSite):
    def login(self, request, extra_context=None):
        if request.method != "POST":
            return super().login(request, extra_context)
        throttle = FailedSignInThrottle()
        username = request.POST.get("username", "")
        retry_after = throttle.retry_after(request, username=username)
        if retry_after is not None:
            return HttpResponse(
                f"Too many failed sign-ins. Try again in {retry_after} seconds.",
                status=429,
                content_type="text/plain; charset=utf-8",
                headers={"Retry-After": str(retry_after)},
            )
        response = super().login(request, extra_context)
        # A sign-in that worked redirects; a refused one shows the form again.
        if not response.has_header("Location"):
            throttle.record_failure(request, username=username)
        return response
