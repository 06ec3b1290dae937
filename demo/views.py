"""Pages of the demo. Each example page shows the source of the functions it runs."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from longcallbacks import get_state

from . import examples


@dataclass(frozen=True)
class ExamplePage:
    slug: str
    title: str
    summary: str
    functions: tuple[Callable[..., Any], ...]
    template: str = field(default="")

    @property
    def template_name(self) -> str:
        return self.template or f"demo/examples/{self.slug.replace('-', '_')}.html"


EXAMPLES: tuple[ExamplePage, ...] = (
    ExamplePage(
        "basic",
        "Basic long callback",
        "An action starts a heavy function on a Celery worker and returns at once.",
        (examples.basic_start, examples.heavy_function),
    ),
    ExamplePage(
        "status",
        "Status function",
        "A status function hears whether the heavy function succeeded or raised.",
        (
            examples.status_start,
            examples.status_start_failing,
            examples.heavy_status,
            examples.failing_heavy_function,
        ),
    ),
    ExamplePage(
        "periodic",
        "Periodic status",
        "With a period of 1000 ms, the status function also gets a count every second.",
        (
            examples.periodic_start,
            examples.heavy_function_in_steps,
            examples.periodic_status,
        ),
    ),
    ExamplePage(
        "trigger-update",
        "Updates from the worker",
        "The heavy function calls invoke_callback to update the page while it runs.",
        (
            examples.respond_action,
            examples.respond,
            examples.add_log_line,
            examples.respond_status,
        ),
    ),
    ExamplePage(
        "manual-thread",
        "Manual thread",
        "A plain thread in the web process reports back with invoke_callback.",
        (
            examples.manual_thread_start,
            examples.heavy_work_in_thread,
            examples.notify_completed,
        ),
    ),
    ExamplePage(
        "result",
        "Returned value",
        "The status function stores the heavy function's return value in the state.",
        (examples.result_start, examples.sum_of_squares, examples.store_result),
    ),
    ExamplePage(
        "pi",
        "Approximating pi",
        "A CPU-bound task with elapsed seconds while it runs and a chart at the end.",
        (examples.pi_start, examples.approximate_pi, examples.pi_status),
    ),
)

EXAMPLES_BY_SLUG = {page.slug: page for page in EXAMPLES}


def source_of(function: Callable[..., Any]) -> str:
    """Return a function's source without the decorator line, for display."""
    return inspect.getsource(function).strip()


def index(request: HttpRequest) -> HttpResponse:
    # Creating the state here saves its id in the session, which the websocket then reads.
    get_state(request)
    return render(
        request,
        "demo/index.html",
        {"examples": EXAMPLES, "title": "Long callbacks in Django"},
    )


def example(request: HttpRequest, slug: str) -> HttpResponse:
    page = EXAMPLES_BY_SLUG.get(slug)
    if page is None:
        raise Http404(f"No example page named {slug!r}.")
    get_state(request)
    context = {
        "page": page,
        "title": page.title,
        "sources": [source_of(function) for function in page.functions],
        "pi_default_iterations": examples.PI_DEFAULT_ITERATIONS,
        "pi_max_iterations": examples.PI_MAX_ITERATIONS,
    }
    return render(request, page.template_name, context)
