"""Plain POST views that run an action or cancel a long callback, for pages without a socket."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseNotFound, HttpResponseRedirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from .actions import InvalidPayload, UnknownAction, payload_from_querydict, run_action
from .logs import get_logger
from .progress import cancel_long_callback
from .state import get_state

logger = get_logger("views")


@require_POST
def action_view(request: HttpRequest) -> HttpResponse:
    """Run the action named by the ``action`` field with the other fields as payload, then redirect.

    CSRF protection comes from CsrfViewMiddleware, as for any POST view.
    """
    name = request.POST.get("action", "")
    payload = payload_from_querydict(request.POST)
    state = get_state(request)
    try:
        run_action(state, name, payload)
    except UnknownAction:
        logger.warning("POST for unknown action %r on state %s.", name[:100], state._state_id)
        return HttpResponseBadRequest(f"No action named {name[:100]!r} exists.", content_type="text/plain")
    except InvalidPayload as exc:
        return HttpResponseBadRequest(str(exc), content_type="text/plain")
    return HttpResponseRedirect(redirect_target(request))


@require_POST
def cancel_view(request: HttpRequest) -> HttpResponse:
    """Cancel the long callback named by the ``long_callback`` field, then redirect.

    Only runs of the request's own state can be cancelled. Another state's id gets the same
    404 as an unknown id, so ids cannot be probed. CSRF protection comes from CsrfViewMiddleware.
    """
    record_id = request.POST.get("long_callback", "")
    state = get_state(request)
    try:
        cancel_long_callback(state, record_id)
    except LookupError:
        logger.warning("POST to cancel unknown long callback %r on state %s.", record_id[:64], state._state_id)
        return HttpResponseNotFound("This state has no long callback with that id.", content_type="text/plain")
    return HttpResponseRedirect(redirect_target(request))


def redirect_target(request: HttpRequest) -> str:
    """Return the ``next`` field or the Referer when it points to this site, else "/"."""
    candidates = [request.POST.get("next", ""), request.headers.get("referer", "")]
    for candidate in candidates:
        if candidate and url_has_allowed_host_and_scheme(
            candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            return candidate
    return "/"
