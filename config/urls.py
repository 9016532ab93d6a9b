from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from crm.core.web import system
from crm.core.web.views import healthz
from crm.org.web.auth import LoginView

api_v1 = [
    path("auth/", include("crm.core.api.urls")),
    path("org/", include("crm.org.api.urls")),
    path("products/", include("crm.products.api.urls")),
    path("customers/", include("crm.customers.api.urls")),
    path("sales/", include("crm.sales.api.urls")),
    path("channels/", include("crm.channels.api.urls")),
    path("portal/", include("crm.channels.api.portal_urls")),
]

urlpatterns = [
    path("", system.home, name="home"),
    path("healthz", login_not_required(healthz), name="healthz"),
    path("accounts/login/", LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password/",
        auth_views.PasswordChangeView.as_view(
            template_name="registration/password_change.html", success_url="/"
        ),
        name="password-change",
    ),
    path("i18n/setlang/", system.set_language_view, name="set_language"),
    path("", include("crm.core.urls")),
    path("org/", include("crm.org.urls")),
    path("products/", include("crm.products.urls")),
    path("customers/", include("crm.customers.urls")),
    path("sales/", include("crm.sales.urls")),
    path("channels/", include("crm.channels.urls")),
    path("portal/", include("crm.channels.portal.urls")),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path(
        "api/docs/",
        SpectacularSwaggerView.as_view(url_name="api-schema"),
        name="api-docs",
    ),
]

handler404 = "crm.core.api.errors.page_not_found"
