"""django-axes' database handler with a second limit: failures from one address across user
names (``GVRS_SIGNIN_FAILURES_PER_ADDRESS``), besides axes' own per (user name, address).

django-axes applies one failure limit to every combination of lockout parameters: a limit of
5 per address would lock out an office behind one address after five typos, and a limit of
20 per pair would let a name be guessed 20 times. So the per-address count has a limit of its
own, checked wherever axes asks whether an attempt is locked out (the sign-in backend and the
old-password check). Loaded by axes from ``AXES_HANDLER``.
"""

from __future__ import annotations

from axes.handlers.database import AxesDatabaseHandler
from django.conf import settings

from gvrs.accounts.throttle import address_failures, client_ip


class AddressLimitedHandler(AxesDatabaseHandler):
    def is_locked(self, request, credentials=None) -> bool:
        if super().is_locked(request, credentials):
            return True
        ip = getattr(request, "axes_ip_address", None) or client_ip(request)
        if address_failures(request, ip) >= settings.GVRS_SIGNIN_FAILURES_PER_ADDRESS:
            # django-axes marks a request locked out only for its own limit: marked here, the
            # attempt gets the lockout page (429), saying which limit it reached.
            request.axes_locked_out = True
            request.gvrs_address_locked = True
            return True
        return False
