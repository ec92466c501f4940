"""What the registry tells the apps above it, so that it never imports them.

``registry_changed`` is sent after a web import job has committed new or changed incidents
(keyword ``run``: its ``ImportRun``). The reports app recomputes the landing dashboard on it;
anything else that must follow an import connects here too.

``scheduled_import_failed`` is sent when a scheduled import's run fails (keyword ``run``: its
``ScheduledRun``); a receiver returns how many people it told (the notifications app emails
the place's administrators who subscribed).
"""

from __future__ import annotations

from django.dispatch import Signal

registry_changed = Signal()
scheduled_import_failed = Signal()
