"""A live page for the end-to-end tests: it creates the session's state and uses every tag."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from longcallbacks import get_state


def live_page(request: HttpRequest) -> HttpResponse:
    get_state(request)
    return render(request, "tests/live_page.html")
