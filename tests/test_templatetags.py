"""Template tags: server-side values escaped as text, action forms, the client and toasts."""

from __future__ import annotations

import json

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest
from django.template import Context, Template
from django.test import RequestFactory

from longcallbacks import get_state

pytestmark = pytest.mark.django_db


def page_request(path: str = "/page/?q=1") -> HttpRequest:
    request = RequestFactory().get(path)
    request.session = SessionStore()
    return request


def render(source: str, request: HttpRequest | None, **variables: object) -> str:
    context = Context({"request": request, **variables} if request is not None else variables)
    return Template("{% load longcallbacks %}" + source).render(context)


def test_state_value_escapes_text() -> None:
    request = page_request()
    get_state(request).message = '<script>alert("x")</script>'
    html = render('{% state_value "message" %}', request)
    assert html == '<span data-lc-var="message">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;</span>'


def test_state_value_safe_opt_in() -> None:
    request = page_request()
    get_state(request).message = "<b>bold</b>"
    html = render('{% state_value "message" tag="pre" safe=True %}', request)
    assert html == '<pre data-lc-var="message" data-lc-safe><b>bold</b></pre>'


def test_state_value_non_string_as_json() -> None:
    request = page_request()
    state = get_state(request)
    state.items = [1, "two", {"three": 3}]
    state.counter = 7
    assert render('{% state_value "items" %}', request) == (
        '<span data-lc-var="items">[1,&quot;two&quot;,{&quot;three&quot;:3}]</span>'
    )
    assert render('{% state_value "counter" %}', request) == '<span data-lc-var="counter">7</span>'


def test_state_value_undeclared_name() -> None:
    with pytest.raises(AttributeError, match="no variable 'nope'"):
        render('{% state_value "nope" %}', page_request())


def test_state_value_invalid_tag_name() -> None:
    with pytest.raises(ImproperlyConfigured, match="tag='div onclick' is invalid"):
        render('{% state_value "message" tag="div onclick" %}', page_request())


@pytest.mark.parametrize(
    "source",
    ['{% state_value "message" %}', '{% action_button "set_message" "Go" %}'],
)
def test_tags_need_request(source: str) -> None:
    with pytest.raises(ImproperlyConfigured, match="context_processors.request"):
        render(source, None)


def test_action_button_form_posts_to_view() -> None:
    request = page_request()
    html = render('{% action_button "set_message" label css_class="big" %}', request, label="Say <hi>")
    assert (
        '<form method="post" action="/longcallbacks/action/" class="lc-action-form" data-lc-action="set_message">'
        in html
    )
    assert '<input type="hidden" name="action" value="set_message">' in html
    assert '<input type="hidden" name="next" value="/page/?q=1">' in html
    assert 'name="csrfmiddlewaretoken" value="' in html
    assert '<button type="submit" class="lc-button big">Say &lt;hi&gt;</button>' in html


def test_action_button_for_other_form() -> None:
    html = render('{% action_button "start_job" "Start" form="job-form" %}', page_request())
    assert html == (
        '<button type="submit" form="job-form" formaction="/longcallbacks/action/" formmethod="post" name="action" '
        'value="start_job" class="lc-button" data-lc-action="start_job">Start</button>'
    )


def test_action_button_unknown_action() -> None:
    with pytest.raises(ImproperlyConfigured, match="'nope', which is not a registered action"):
        render('{% action_button "nope" "Go" %}', page_request())


def test_client_tag_adds_assets_and_config() -> None:
    html = render("{% longcallbacks_client %}", None)
    assert '<link rel="stylesheet" href="/static/longcallbacks/client.css">' in html
    assert '<script src="/static/longcallbacks/client.js" defer></script>' in html
    assert 'data-lc-status data-state="connecting" role="status"' in html
    config_text = html.split('<script id="longcallbacks-config" type="application/json">', 1)[1].split("</script>", 1)[
        0
    ]
    config = json.loads(config_text)
    assert config["path"] == "/ws/longcallbacks/"
    assert config["texts"]["live"] == "Live"


def test_client_tag_options() -> None:
    html = render('{% longcallbacks_client path="/prefix/ws/longcallbacks/" status=False %}', None)
    assert '"path": "/prefix/ws/longcallbacks/"' in html
    assert "data-lc-status" not in html


def test_notification_area_has_live_regions() -> None:
    html = render("{% notification_area %}", None)
    assert '<div class="lc-notifications" data-lc-notifications></div>' in html
    assert 'aria-live="polite"' in html
    assert 'aria-live="assertive"' in html


def test_live_page_renders_current_values(client: object) -> None:
    from django.test import Client

    browser = Client()
    first = browser.get("/live/").content.decode()
    assert '<span data-lc-var="message">initial</span>' in first
    assert '<strong data-lc-var="task_result"></strong>' in first
    browser.post("/longcallbacks/action/", {"action": "set_message", "text": "a & b"})
    second = browser.get("/live/").content.decode()
    assert '<span data-lc-var="message">a &amp; b</span>' in second
