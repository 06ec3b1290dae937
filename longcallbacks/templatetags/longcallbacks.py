"""Template tags of live pages: ``{% load longcallbacks %}``.

Values render server-side first, so a page is complete without JavaScript; the client then
keeps the marked elements live over the websocket.
"""

from __future__ import annotations

import json
import re
from typing import Any

from django import template
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest
from django.middleware.csrf import get_token
from django.templatetags.static import static
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html, json_script
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

from ..actions import registry as action_registry
from ..routing import WEBSOCKET_PATH
from ..state import get_state

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
    context: template.Context, name: str, label: str, form: str | None = None, css_class: str = ""
) -> SafeString:
    """Render a button that runs an action: over the socket when connected, else as a form POST.

    With ``form="<id>"``, that form's fields become the payload. That form needs its own
    ``{% csrf_token %}`` for the POST without JavaScript.
    """
    request = _request(context, "action_button")
    if name not in action_registry:
        known = ", ".join(action_registry.names()) or "none"
        raise ImproperlyConfigured(
            f"action_button names {name!r}, which is not a registered action. Registered: {known}."
        )
    try:
        url = reverse("longcallbacks:action")
    except NoReverseMatch as exc:
        raise ImproperlyConfigured(
            "action_button needs the action view: add path('longcallbacks/', include('longcallbacks.urls')) "
            "to your URLconf."
        ) from exc
    classes = f"lc-button {css_class}".strip()

    if form:
        return format_html(
            '<button type="submit" form="{form}" formaction="{url}" formmethod="post" name="action" value="{name}" '
            'class="{classes}" data-lc-action="{name}">{label}</button>',
            form=form,
            url=url,
            name=name,
            classes=classes,
            label=label,
        )
    return format_html(
        '<form method="post" action="{url}" class="lc-action-form" data-lc-action="{name}">'
        '<input type="hidden" name="csrfmiddlewaretoken" value="{token}">'
        '<input type="hidden" name="action" value="{name}">'
        '<input type="hidden" name="next" value="{next}">'
        '<button type="submit" class="{classes}">{label}</button>'
        "</form>",
        url=url,
        name=name,
        token=get_token(request),
        next=request.get_full_path(),
        classes=classes,
        label=label,
    )


@register.simple_tag
def notification_area() -> SafeString:
    """Render the toast container and the live regions that announce notifications to screen readers."""
    return mark_safe(
        '<div class="lc-notifications" data-lc-notifications></div>'
        '<div class="lc-visually-hidden" aria-live="polite" data-lc-announce="polite"></div>'
        '<div class="lc-visually-hidden" aria-live="assertive" data-lc-announce="assertive"></div>'
    )
