"""Request ids and structured logs.

``RequestMiddleware`` (first in the chain) gives every request an id: the proxy's
``X-Request-ID`` when it sent a sane one (nginx: ``proxy_set_header X-Request-ID
$request_id``), else a new one; it is sent back in the response's ``X-Request-ID`` and added
to every log record written while the request is served. It also times the request for the
metrics and, with ``GVRS_ACCESS_LOG=1`` (``gvrs serve --production`` sets it when
``GVRS_LOG_FORMAT=json``), writes one access line per request to the ``gvrs.access`` logger.

``GVRS_LOG_FORMAT=json`` writes each log record as one JSON object per line (``time``,
``level``, ``logger``, ``message``, ``request_id``, and ``exception`` when there is one) for
a log shipper; the default, ``text``, is the plain line.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import time
import uuid
from datetime import UTC, datetime

from gvrs.operations import metrics

REQUEST_ID = contextvars.ContextVar("gvrs_request_id", default="-")
_SANE = re.compile(r"^[A-Za-z0-9._:-]{8,100}$")
access_log = logging.getLogger("gvrs.access")


def request_id_from(request) -> str:
    given = request.META.get("HTTP_X_REQUEST_ID", "")
    return given if _SANE.match(given) else uuid.uuid4().hex


class RequestMiddleware:
    def __init__(self, get_response) -> None:
        from django.conf import settings

        self.get_response = get_response
        self.access = settings.GVRS_ACCESS_LOG

    def __call__(self, request):
        started = time.perf_counter()
        request.id = request_id_from(request)
        token = REQUEST_ID.set(request.id)
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = request.id
            seconds = time.perf_counter() - started
            metrics.observe(request, response.status_code, seconds)
            if self.access:
                access_log.info(
                    "%s %s %s %.1f ms",
                    request.method,
                    request.path,
                    response.status_code,
                    seconds * 1000,
                    extra={
                        "method": request.method,
                        "path": request.path,
                        "status": response.status_code,
                        "duration_ms": round(seconds * 1000, 1),
                        "view": metrics.view_label(request),
                        "remote_addr": request.META.get("REMOTE_ADDR"),
                    },
                )
            return response
        finally:
            REQUEST_ID.reset(token)


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` to every record (``-`` outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = REQUEST_ID.get()
        return True


_EXTRA = ("method", "path", "status", "duration_ms", "view", "remote_addr", "status_code")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", REQUEST_ID.get()),
        }
        for key in _EXTRA:
            value = getattr(record, key, None)
            if isinstance(value, str | int | float):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)
