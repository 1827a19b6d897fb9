"""In-app notifications and their emails: awaiting approval, reminders, outcomes, policy changes.

A Notification row is written inside the caller's transaction; its email goes out after commit through a
Celery task (harvester.approval_tasks.notification_email_task) that claims the row with a conditional
UPDATE, so a retry or a second worker never sends it twice.
"""

from decimal import Decimal

from django.conf import settings
from django.db.models import QuerySet

from harvester.models import HarvestPolicy, HarvestProposal, Notification, ProposalComment
from harvester.money import to_cents


def _money(value: Decimal) -> str:
    amount = to_cents(Decimal(value))
    return f"{'-' if amount < 0 else ''}${abs(amount):,.2f}"


def _site(path: str) -> str:
    return getattr(settings, "SITE_URL", "").rstrip("/") + path


def notify(
    *, users, kind: str, subject: str, body: str, household=None, proposal=None, url: str = "", email: bool = True
) -> list[Notification]:
    """One Notification per user (each user once), emailed after the surrounding transaction commits."""
    from harvester.approval_tasks import notification_email_task

    seen, rows = set(), []
    for user in users:
        if user.pk in seen:
            continue
        seen.add(user.pk)
        rows.append(
            Notification(
                user=user, household=household, proposal=proposal, kind=kind, subject=subject[:200], body=body, url=url
            )
        )
    created = Notification.objects.bulk_create(rows)
    if email:
        for row in created:
            if row.user.email:
                notification_email_task.delay_on_commit(row.pk)
    return created


def unread_count(user) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def unread(user) -> QuerySet[Notification]:
    return Notification.objects.filter(user=user, read_at__isnull=True).order_by("-created_at", "-id")


def _proposal_lines(p: HarvestProposal) -> str:
    return (
        f"Account: {p.account.name}\n"
        f"Sell {p.sell_quantity.normalize():f} shares of {p.sell_security.ticker}, buy {_money(p.buy_amount)} "
        f"of {p.buy_security.ticker}.\n"
        f"Loss harvested: {_money(p.loss)}; estimated tax value {_money(p.tax_value)}; "
        f"estimated trading cost {_money(p.trading_cost)}.\n"
    )


def notify_awaiting(p: HarvestProposal, *, users, rule: str) -> None:
    url = f"/proposals/{p.pk}/"
    expires = f"It expires on {p.expires_at:%Y-%m-%d %H:%M} UTC.\n" if p.expires_at else ""
    notify(
        users=users,
        kind="awaiting_approval",
        subject=f"Approval needed: harvest {p.sell_security.ticker} in {p.account.name}",
        body=f"A tax-loss harvest waits for your decision.\n\n{_proposal_lines(p)}{rule}\n{expires}\n"
        f"Review it, approve or reject: {_site(url)}\n",
        household=p.household,
        proposal=p,
        url=url,
    )


def notify_reminder(p: HarvestProposal, *, users) -> None:
    url = f"/proposals/{p.pk}/"
    notify(
        users=users,
        kind="reminder",
        subject=f"Reminder: harvest {p.sell_security.ticker} in {p.account.name} expires soon",
        body=f"This proposal expires on {p.expires_at:%Y-%m-%d %H:%M} UTC and still waits for you.\n\n"
        f"{_proposal_lines(p)}\nReview it: {_site(url)}\n",
        household=p.household,
        proposal=p,
        url=url,
    )


OUTCOME_WORDS = {
    "approved": "is approved: the advisor will place the trades",
    "rejected": "was rejected",
    "expired": "expired before it was carried out",
    "invalidated": "no longer holds and was withdrawn",
    "superseded": "was replaced by a newer proposal",
    "executed": "was executed",
}


def notify_outcome(p: HarvestProposal, *, users, email: bool = True) -> None:
    url = f"/proposals/{p.pk}/"
    words = OUTCOME_WORDS.get(p.status, p.get_status_display().lower())
    reason = f"Reason: {p.status_reason}\n" if p.status_reason else ""
    notify(
        users=users,
        kind=f"proposal_{p.status}",
        subject=f"Harvest {p.sell_security.ticker} in {p.account.name} {words.split(':')[0]}",
        body=f"The proposal to harvest {p.sell_security.ticker} in {p.account.name} {words}.\n{reason}\n"
        f"{_proposal_lines(p)}\nDetails: {_site(url)}\n",
        household=p.household,
        proposal=p,
        url=url,
        email=email,
    )


def notify_comment(p: HarvestProposal, comment: ProposalComment, *, users) -> None:
    author = comment.user.get_full_name() or comment.user.username
    notify(
        users=users,
        kind="comment",
        subject=f"{author} commented on the {p.sell_security.ticker} harvest",
        body=f"{author} wrote:\n\n{comment.body}\n\n{_site(f'/proposals/{p.pk}/')}\n",
        household=p.household,
        proposal=p,
        url=f"/proposals/{p.pk}/",
        email=False,
    )


def notify_policy_version(policy: HarvestPolicy, *, users) -> None:
    url = f"/households/{policy.household_id}/policy/"
    note = f"What changed: {policy.change_note}\n" if policy.change_note else ""
    notify(
        users=users,
        kind="policy_version",
        subject=f"Please acknowledge harvest policy version {policy.version}",
        body=f"Your advisor drafted version {policy.version} of the household's harvesting policy.\n{note}"
        f"It governs new proposals once every owner has acknowledged it.\n\nRead and acknowledge it: {_site(url)}\n",
        household=policy.household,
        url=url,
    )
