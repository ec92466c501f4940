"""``gvrs notify``: email what subscribers should hear of (open retaliation alerts, overdue
reviews, failed scheduled imports), each once. For cron or a systemd timer; ``gvrs worker``
runs it too. Prints what it did."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from gvrs.notifications.sending import send_pending


class Command(BaseCommand):
    help = "Email subscribers about alerts, overdue reviews and failed imports (once each)."

    def handle(self, *args, **options) -> None:
        self.stdout.write(send_pending().describe())
