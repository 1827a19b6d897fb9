"""Onboarding pages (included at the site root by harvester/urls.py)."""

from django.urls import path

from lots import onboarding_views as views

urlpatterns = [
    path("households/<int:household_id>/imports/", views.import_list, name="imports"),
    path("households/<int:household_id>/imports/<int:batch_id>/", views.import_batch, name="import-batch"),
    path("households/<int:household_id>/imports/<int:batch_id>/confirm/", views.import_confirm, name="import-confirm"),
    path("households/<int:household_id>/transactions.csv", views.transactions_csv, name="transactions-csv"),
    path("households/<int:household_id>/prices/", views.prices, name="prices"),
    path("households/<int:household_id>/scheduled/", views.scheduled, name="scheduled"),
    path("households/<int:household_id>/scheduled/<int:purchase_id>/edit/", views.scheduled_edit,
         name="scheduled-edit"),
    path("households/<int:household_id>/scheduled/<int:purchase_id>/delete/", views.scheduled_delete,
         name="scheduled-delete"),
]
