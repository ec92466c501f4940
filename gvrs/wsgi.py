"""WSGI entry point for production servers (``gvrs serve --production``).

Everything a request needs is imported here, at load time, so that gunicorn's ``--preload``
forks workers that answer the first visit as fast as the next one.
"""

from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gvrs.settings")
application = get_wsgi_application()

from gvrs.operations.preload import preload  # noqa: E402 - needs the settings configured above

preload()
