"""Template tags of the approval flow: the inbox link in the navigation, the household summary."""

from django import template
from django.db.models import Count, Q
from django.urls import reverse
from django.utils.html import format_html

from harvester.models import HarvestProposal, Notification

register = template.Library()


@register.simple_tag(takes_context=True)
def inbox_link(context) -> str:
    """<li><a>Inbox (N)</a></li> with N the viewer's unread notifications: one indexed COUNT query."""
    user = context.get("user")
    if user is None or not user.is_authenticated:
        return ""
    unread = Notification.objects.filter(user=user, read_at__isnull=True).count()
    label = f"Inbox ({unread})" if unread else "Inbox"
    return format_html(
        '<li><a href="{}" id="nav-inbox" data-unread="{}"{}>{}</a></li>',
        reverse("inbox"),
        unread,
        format_html(' aria-label="Inbox, {} unread"', unread) if unread else "",
        label,
    )


@register.simple_tag
def household_approvals(household) -> dict:
    """Counts for the household page: proposals awaiting approval and approved ones to execute (one query)."""
    S = HarvestProposal.Status
    return HarvestProposal.objects.filter(household=household).aggregate(
        awaiting=Count("pk", filter=Q(status=S.AWAITING_APPROVAL)),
        approved=Count("pk", filter=Q(status=S.APPROVED)),
    )
