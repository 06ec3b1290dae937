"""Websocket URL patterns, to wrap in ``AllowedHostsOriginValidator(AuthMiddlewareStack(...))``."""

from __future__ import annotations

from django.urls import path

from .consumers import LongCallbacksConsumer

# The path without its leading slash, as URLRouter matches it. The client tag adds the slash.
WEBSOCKET_PATH = "ws/longcallbacks/"

websocket_urlpatterns = [path(WEBSOCKET_PATH, LongCallbacksConsumer.as_asgi(), name="longcallbacks-socket")]
