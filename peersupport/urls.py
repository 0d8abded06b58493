from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from peersupport import health
from programmes import views as programme_views

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("", programme_views.home, name="home"),
    path("accounts/", include("allauth.urls")),
    path("profile/", include("accounts.urls")),
    path("", include("programmes.urls")),
    path("", include("referrals.urls")),
    path("", include("matching.urls")),
    path("", include("groups.urls")),
    path("", include("notifications.urls")),
    path(settings.ADMIN_URL, admin.site.urls),
]
