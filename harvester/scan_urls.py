"""Pages of harvest scans (included at the site root)."""

from django.urls import path

from harvester import scan_views as views

urlpatterns = [
    path("households/<int:household_id>/scan/", views.household_scans, name="household-scans"),
    path(
        "households/<int:household_id>/scan/proposals/<int:proposal_id>/",
        views.proposal_detail,
        name="scan-proposal",
    ),
    path("scans/<int:scan_id>/", views.scan_detail, name="scan"),
]
