"""ASGI entry point of the demo project: HTTP through Django, WebSockets through Channels.

Serve it with `manage.py runserver` (daphne's) or `daphne demo_project.asgi:application`.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "demo_project.settings")

# get_asgi_application() sets up Django, so it runs before any import below that
# loads models (the auth middleware and the app's routing).
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler  # noqa: E402

import longcallbacks.routing  # noqa: E402

application = ProtocolTypeRouter(
    {
        # The demo serves its own static files, so `daphne demo_project.asgi:application`
        # needs no web server in front. A production project runs collectstatic and serves
        # STATIC_ROOT with a web server or WhiteNoise instead.
        "http": ASGIStaticFilesHandler(django_asgi_app),
        # Browsers apply no same-origin policy to WebSockets, so the origin check rejects
        # handshakes whose Origin header names a host outside ALLOWED_HOSTS.
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(URLRouter(longcallbacks.routing.websocket_urlpatterns))
        ),
    }
)
