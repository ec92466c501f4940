"""The reader's language on the pages published in more than one language.

The public pages (and later the council report and partner pages) are translated; the rest of
the site is written for analysts in English, and a signed-in user whose browser prefers
Spanish should not get half-translated pages (Django's own strings and month names in Spanish
among English text). So Django's ``LocaleMiddleware`` chooses the language (the
``django_language`` cookie the language switch sets, else the browser's ``Accept-Language``)
only under ``TRANSLATED_PATHS``; everywhere else the site's ``LANGUAGE_CODE`` is active.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.middleware.locale import LocaleMiddleware
from django.utils import translation
from django.utils.cache import patch_vary_headers

TRANSLATED_PATHS = ("/public/",)


def translated(path: str) -> bool:
    return path.startswith(TRANSLATED_PATHS)


class PublicLocaleMiddleware(LocaleMiddleware):
    def process_request(self, request: HttpRequest) -> None:
        if translated(request.path_info):
            super().process_request(request)
        else:
            translation.activate(settings.LANGUAGE_CODE)
            request.LANGUAGE_CODE = translation.get_language()

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if translated(request.path_info):
            # The same URL answers in the cookie's language, else the browser's: a shared
            # cache must key on both.
            response = super().process_response(request, response)
            response.headers.setdefault("Content-Language", translation.get_language())
            patch_vary_headers(response, ("Cookie",))
        return response
