from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from accounts import security_views
from accounts import views as account_views
from harvester import api
from lots import views as lot_views

urlpatterns = [
    path("", account_views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("login/verify/", security_views.verify, name="mfa-verify"),
    path("account/security/", security_views.security, name="account-security"),
    path("account/security/authenticator/", security_views.totp_setup, name="mfa-setup"),
    path("account/security/backup-codes/", security_views.backup_codes, name="mfa-backup-codes"),
    path("account/security/disable/", security_views.mfa_disable, name="mfa-disable"),
    path("account/password/", security_views.PasswordChange.as_view(), name="password-change"),
    path("households/<int:household_id>/", account_views.household_detail, name="household"),
    path(
        "households/<int:household_id>/accounts/<int:account_id>/", account_views.account_detail, name="account"
    ),
    path("households/<int:household_id>/realized/", lot_views.realized, name="realized"),
    path("households/<int:household_id>/realized/form8949.csv", lot_views.form8949_csv, name="form8949-csv"),
    path("households/<int:household_id>/reconcile/", lot_views.reconcile, name="reconcile"),
    path("", include("lots.onboarding_urls")),
    path("", include("harvester.scan_urls")),
    path("", include("harvester.approval_urls")),
    path("", include("harvester.dashboard_urls")),
    path("api/", include(api.urlpatterns)),
    path("api/", include("lots.onboarding_api")),
    path("api/", include("harvester.scan_api")),
    path("api/", include("harvester.approval_api")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("admin/", admin.site.urls),
]
