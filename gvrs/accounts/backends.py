"""django-axes' authentication backend, for sign-ins that come with a request."""

from __future__ import annotations

from axes.backends import AxesStandaloneBackend


class RequestThrottledBackend(AxesStandaloneBackend):
    """Every web sign-in passes its request and is throttled; a sign-in without one (a
    management command, a test client's ``login``) has no address to throttle, so it is left
    to the next backend instead of refused."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
