from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("longcallbacks/", include("longcallbacks.urls")),
    path("", include("demo.urls")),
]
