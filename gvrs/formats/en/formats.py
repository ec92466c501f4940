"""The house style for dates on pages (docs/architecture.md): "21 Dec 2025", times on the
24-hour clock. Django's English formats ("Dec. 21, 2025") are replaced for every template
that shows a date without naming a format."""

from __future__ import annotations

DATE_FORMAT = "j M Y"
DATETIME_FORMAT = "j M Y H:i"
SHORT_DATE_FORMAT = "j M Y"
SHORT_DATETIME_FORMAT = "j M Y H:i"
MONTH_DAY_FORMAT = "j M"
YEAR_MONTH_FORMAT = "M Y"
TIME_FORMAT = "H:i"
