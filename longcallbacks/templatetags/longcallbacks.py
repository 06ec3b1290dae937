"""Template tags of live pages: ``{% load longcallbacks %}``.

Values render server-side first, so a page is complete without JavaScript; the client then
keeps the marked elements live over the websocket.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

from django import template
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest
from django.middleware.csrf import get_token
from django.templatetags.static import static
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join, json_script
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

from ..actions import registry as action_registry
from ..delivery import active_runs, take_page_notifications
from ..models import LongCallback
from ..progress_display import run_context, run_texts
from ..routing import WEBSOCKET_PATH
from ..state import get_state, resolve_state_id

register = template.Library()

TAG_NAME_PATTERN = re.compile(r"^[a-z][a-z0-9]*$")


def _request(context: template.Context, tag: str) -> HttpRequest:
    request = context.get("request")
    if not isinstance(request, HttpRequest):
        raise ImproperlyConfigured(
            f"{{% {tag} %}} needs the request in the template context: add "
            f"'django.template.context_processors.request' to the context_processors in TEMPLATES "
            f"and render the template with a request (render(request, ...))."
        )
    return request


def _existing_state_id(request: HttpRequest) -> str | None:
    """Return the id of the request's state without creating one, so rendering stays read-only."""
    state = getattr(request, "_longcallbacks_state", None)
    if state is not None:
        state_id: str = state._state_id
        return state_id
    session = getattr(request, "session", None)
    if session is None:
        return None
    return resolve_state_id(session, getattr(request, "user", None), create=False)


def _reverse_app_url(name: str, tag: str) -> str:
    try:
        return reverse(f"longcallbacks:{name}")
    except NoReverseMatch as exc:
        raise ImproperlyConfigured(
            f"{tag} needs the app's views: add path('longcallbacks/', include('longcallbacks.urls')) to your URLconf."
        ) from exc


def value_as_text(value: Any) -> str:
    """Return a variable's value as the client shows it: strings as is, anything else as compact JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


@register.simple_tag
def longcallbacks_client(path: str | None = None, status: bool = True) -> SafeString:
    """Add the client's CSS and JS, its configuration and a connection status element."""
    texts = {
        "connecting": gettext("Connecting…"),
        "live": gettext("Live"),
        "reconnecting": gettext("Reconnecting…"),
        "offline": gettext("Offline: reload the page"),
        "close": gettext("Close"),
        **run_texts(),
    }
    config = {"path": path or f"/{WEBSOCKET_PATH}", "texts": texts}
    parts = [
        format_html('<link rel="stylesheet" href="{}">', static("longcallbacks/client.css")),
        json_script(config, "longcallbacks-config"),
        format_html('<script src="{}" defer></script>', static("longcallbacks/client.js")),
    ]
    if status:
        parts.append(
            format_html(
                '<span class="lc-status" data-lc-status data-state="connecting" role="status">{}</span>',
                texts["connecting"],
            )
        )
    return mark_safe("\n".join(parts))


@register.simple_tag(takes_context=True)
def state_value(context: template.Context, name: str, tag: str = "span", safe: bool = False) -> SafeString:
    """Render a state variable in an element that the client keeps up to date.

    The value is escaped as text unless ``safe=True``, which opts into HTML for trusted values.
    """
    request = _request(context, "state_value")
    if not TAG_NAME_PATTERN.match(tag):
        raise ImproperlyConfigured(
            f"state_value tag={tag!r} is invalid; use an HTML element name such as 'span' or 'pre'."
        )
    value = getattr(get_state(request), name)
    text = value_as_text(value)
    if safe:
        return format_html(
            '<{tag} data-lc-var="{name}" data-lc-safe>{value}</{tag}>',
            tag=mark_safe(tag),
            name=name,
            value=mark_safe(text),
        )
    return format_html('<{tag} data-lc-var="{name}">{value}</{tag}>', tag=mark_safe(tag), name=name, value=text)


@register.simple_tag(takes_context=True)
def action_button(
    context: template.Context,
    name: str,
    label: str,
    form: str | None = None,
    css_class: str = "",
    disable_while_running: bool = False,
) -> SafeString:
    """Render a button that runs an action: over the socket when connected, else as a form POST.

    With ``form="<id>"``, that form's fields become the payload. That form needs its own
    ``{% csrf_token %}`` for the POST without JavaScript. With ``disable_while_running=True``
    the button is disabled while a long callback that this action started is queued or
    running: rendered so from the database, then kept up to date by the client.
    """
    request = _request(context, "action_button")
    if name not in action_registry:
        known = ", ".join(action_registry.names()) or "none"
        raise ImproperlyConfigured(
            f"action_button names {name!r}, which is not a registered action. Registered: {known}."
        )
    url = _reverse_app_url("action", "action_button")
    classes = f"lc-button {css_class}".strip()
    running_attributes = mark_safe("")
    if disable_while_running:
        running_attributes = mark_safe(" data-lc-disable-while-running")
        if _action_is_running(request, name):
            running_attributes = mark_safe(" data-lc-disable-while-running disabled")

    if form:
        return format_html(
            '<button type="submit" form="{form}" formaction="{url}" formmethod="post" name="action" value="{name}" '
            'class="{classes}" data-lc-action="{name}"{running}>{label}</button>',
            form=form,
            url=url,
            name=name,
            classes=classes,
            running=running_attributes,
            label=label,
        )
    return format_html(
        '<form method="post" action="{url}" class="lc-action-form" data-lc-action="{name}">'
        '<input type="hidden" name="csrfmiddlewaretoken" value="{token}">'
        '<input type="hidden" name="action" value="{name}">'
        '<input type="hidden" name="next" value="{next}">'
        '<button type="submit" class="{classes}"{running}>{label}</button>'
        "</form>",
        url=url,
        name=name,
        token=get_token(request),
        next=request.get_full_path(),
        classes=classes,
        running=running_attributes,
        label=label,
    )


def _action_is_running(request: HttpRequest, name: str) -> bool:
    state_id = _existing_state_id(request)
    if state_id is None:
        return False
    runs = LongCallback.objects.filter(state_id=state_id, action=name, status__in=LongCallback.ACTIVE_STATUSES)
    return runs.exists()


@register.inclusion_tag("longcallbacks/long_callbacks.html", takes_context=True)
def long_callbacks(context: template.Context) -> dict[str, Any]:
    """Render the state's queued and running long callbacks, each with progress and a Cancel button.

    The client adds new runs, updates their progress and removes the ones that end. The
    Cancel button goes over the socket when it is live, else it posts to the cancel view.
    """
    request = _request(context, "long_callbacks")
    texts = run_texts()
    state_id = _existing_state_id(request)
    now = timezone.now()
    records = active_runs(state_id) if state_id is not None else []
    return {
        "runs": [run_context(record, now, texts) for record in records],
        "texts": texts,
        "now_ms": int(time.time() * 1000),
        "cancel_url": _reverse_app_url("cancel", "long_callbacks"),
        "csrf_token_value": get_token(request),
        "next": request.get_full_path(),
    }


@register.simple_tag(takes_context=True)
def notification_area(context: template.Context) -> SafeString:
    """Render the toast container and the live regions that announce notifications to screen readers.

    With the request in the context, the state's undelivered notifications are rendered as
    toasts and marked delivered, so a page without JavaScript shows them once. The client
    records their ids as shown, so the socket does not show them again.
    """
    toasts = mark_safe("")
    request = context.get("request")
    if isinstance(request, HttpRequest):
        state_id = _existing_state_id(request)
        if state_id is not None:
            toasts = format_html_join(
                "",
                '<div class="lc-toast lc-toast-{}" role="status" data-lc-notification-id="{}" '
                'data-lc-notification-key="{}@{}" data-lc-duration="{}"><span class="lc-toast-message">{}</span></div>',
                (
                    (item["type"], item["id"], item["id"], item["created_at"], item["duration"], item["message"])
                    for item in take_page_notifications(state_id)
                ),
            )
    return format_html(
        '<div class="lc-notifications" data-lc-notifications>{}</div>'
        '<div class="lc-visually-hidden" aria-live="polite" data-lc-announce="polite"></div>'
        '<div class="lc-visually-hidden" aria-live="assertive" data-lc-announce="assertive"></div>',
        toasts,
    )
