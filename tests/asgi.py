"""ASGI application of the test suite, set up as the README tells users to set up theirs.

Daphne serves it in the end-to-end tests (``daphne tests.asgi:application``), and the
consumer tests drive ``websocket_application`` with Channels' WebsocketCommunicator.
"""

from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

# get_asgi_application() sets Django up, so it runs before the imports that load models.
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from longcallbacks.routing import websocket_urlpatterns  # noqa: E402
from tests.celery_app import app as celery_app  # noqa: E402

# Celery's current app is thread-local, and actions and sync views run in asgiref's worker
# threads, where only the default app is seen. Without this, their tasks would go to the
# fallback app's broker (amqp://localhost) instead of the test queue on Redis.
celery_app.set_default()

websocket_application = AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns)))

application = ProtocolTypeRouter({"http": django_asgi_app, "websocket": websocket_application})
