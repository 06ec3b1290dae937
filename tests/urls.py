from django.contrib import admin
from django.urls import include, path

from tests import views

urlpatterns = [
    path("admin/", admin.site.urls),
    path("longcallbacks/", include("longcallbacks.urls")),
    path("live/", views.live_page, name="live-page"),
]
