"""Pages of the approval flow (included at the site root)."""

from django.urls import path

from harvester import approval_views as views

urlpatterns = [
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/read/", views.inbox_mark_read, name="inbox-read"),
    path("proposals/<int:proposal_id>/", views.proposal_detail, name="proposal"),
    path("proposals/<int:proposal_id>/approve/", views.proposal_approve, name="proposal-approve"),
    path("proposals/<int:proposal_id>/reject/", views.proposal_reject, name="proposal-reject"),
    path("proposals/<int:proposal_id>/comment/", views.proposal_comment, name="proposal-comment"),
    path("proposals/<int:proposal_id>/execute/", views.proposal_execute, name="proposal-execute"),
    path("households/<int:household_id>/policy/", views.policy_page, name="policy"),
    path("households/<int:household_id>/policy/edit/", views.policy_edit, name="policy-edit"),
    path("households/<int:household_id>/policy/acknowledge/", views.policy_acknowledge_view, name="policy-acknowledge"),
    path("households/<int:household_id>/audit/", views.audit_page, name="audit"),
    path("households/<int:household_id>/audit/export.csv", views.audit_csv, name="audit-csv"),
    path("households/<int:household_id>/execution/", views.household_execution, name="execution"),
    path("households/<int:household_id>/execution/order-ticket.csv", views.order_ticket_csv, name="order-ticket"),
    path("households/<int:household_id>/calendar/", views.household_calendar, name="calendar"),
]
