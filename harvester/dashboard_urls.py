"""Pages of the realized-loss dashboard, the harvest calendar feed and reporting access (docs/reporting.md)."""

from django.urls import path

from harvester import dashboard_views as views

urlpatterns = [
    path("households/<int:household_id>/dashboard/", views.household_dashboard, name="dashboard"),
    path("dashboard/", views.all_dashboard, name="dashboard-all"),
    path("calendar/<str:token>.ics", views.calendar_feed, name="calendar-feed"),
    path("reporting/access/", views.reporting_access, name="reporting-access"),
]
