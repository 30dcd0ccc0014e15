from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from django.views.generic.base import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from deliveries import views as delivery_views
from households import account_views
from households import apis as household_apis
from households import views as household_views

api_v1 = [
    path("auth/token/", household_apis.AuthTokenApi.as_view(), name="api-token"),
    path("auth/code/", household_apis.AuthCodeApi.as_view(), name="api-code"),
    path("auth/tokens/", household_apis.ApiTokenListApi.as_view(), name="api-token-list"),
    path("auth/tokens/<int:pk>/", household_apis.ApiTokenRevokeApi.as_view(), name="api-token-revoke"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include("supply.api_urls")),
    path("", include("deliveries.api_urls")),
    path("", include("hotlines.api_urls")),
    path("", include("households.dashboard_api_urls")),
]

admin.site.site_header = _("Baogong administration")
admin.site.site_title = _("Baogong")
admin.site.index_title = _("Administration")

urlpatterns = [
    path("", household_views.home, name="home"),
    path("accounts/login/", account_views.SignInView.as_view(), name="login"),
    path("accounts/login/code/", account_views.login_code, name="login_code"),
    path("accounts/login/code/verify/", account_views.login_code_verify, name="login_code_verify"),
    path("accounts/logout/", account_views.SignOutView.as_view(), name="logout"),
    path("accounts/register/", account_views.register, name="register"),
    path("accounts/register/verify/", account_views.register_verify, name="register_verify"),
    path("accounts/password/reset/", account_views.password_reset, name="password_reset"),
    path("accounts/password/reset/verify/", account_views.password_reset_verify, name="password_reset_verify"),
    path("accounts/password/change/", account_views.password_change, name="password_change"),
    path("accounts/security/", account_views.account_security, name="account_security"),
    path("accounts/large-text/", account_views.large_text_toggle, name="large_text"),
    path("accounts/security/tokens/<int:pk>/revoke/", account_views.api_token_revoke, name="api_token_revoke"),
    path("volunteer/register/", account_views.volunteer_register, name="volunteer_register"),
    path("volunteer/register/verify/", account_views.volunteer_register_verify, name="volunteer_register_verify"),
    path("accounts/register/buildings/", household_views.register_buildings, name="register_buildings"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("healthz/", household_views.healthz, name="healthz"),
    # browsers ask for /favicon.ico whatever the page says
    path(
        "favicon.ico",
        RedirectView.as_view(url="/" + settings.STATIC_URL.lstrip("/") + "img/favicon.svg", permanent=True),
        name="favicon",
    ),
    path("admin/", admin.site.urls),
    path("", include("households.urls")),
    path("", include("supply.urls")),
    path("", include("supply.catalog_urls")),
    path("", include("deliveries.urls")),
    path("p/<str:code>/", delivery_views.package_scan, name="package_scan"),  # a label's QR code
    path("", include("hotlines.urls")),
    path("", include("households.dashboard_urls")),
    path("api/v1/", include(api_v1)),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

handler404 = "households.views.page_not_found"
