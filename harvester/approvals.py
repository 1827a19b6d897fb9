"""Proposals from submission to execution: who may decide, the state machine, and its audit trail.

    proposed --submit--> awaiting_approval --approve (quorum met)--> approved --execute--> executed
    awaiting_approval | approved --reject--> rejected
    any open state --expire--> expired | --re-check fails--> invalidated | --newer scan--> superseded

Every transition runs with the proposal row locked (SELECT ... FOR UPDATE), checks the state it starts
from, and writes its audit event in the same transaction, so concurrent approvals and double submits
have exactly one outcome (docs/approvals.md). Execution is also one-to-one in the database.

Services raise PermissionDenied (403) when the caller may not act, ProposalConflict (409) when the
proposal's state does not allow it, and django ValidationError (400) for bad input.
"""

import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_DOWN, Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max, Prefetch, Q, Sum, prefetch_related_objects
from django.db.models.expressions import RawSQL
from django.http import Http404
from django.utils import timezone

from accounts.access import access_household, role_in
from accounts.models import Account, Household, Membership, Owner
from harvester import notifications
from harvester.audit import audit_record, client_ip
from harvester.models import Approval, AuditEvent, Execution, HarvestProposal, ProposalComment
from harvester.money import to_cents
from harvester.policy import Approvers, Seat, account_approvers, policy_governing, policy_in_force
from lots.models import Lot, Price, Transaction

log = logging.getLogger(__name__)

Status = HarvestProposal.Status
ACTING_ROLES = frozenset({Membership.Role.MEMBER, Membership.Role.TRUSTEE, Membership.Role.ADVISOR})
OPEN = (Status.PROPOSED, Status.AWAITING_APPROVAL, Status.APPROVED)
PASSWORD_FRESH_FOR = timedelta(minutes=10)
PASSWORD_SESSION_KEY = "harvester.password_confirmed"
QUANTUM = Decimal("0.00000001")
ZERO = Decimal("0")


class ProposalConflict(Exception):
    """The proposal's state does not allow this (HTTP 409). `proposal` is its current state."""

    def __init__(self, reason: str, *, proposal: HarvestProposal | None = None):
        super().__init__(reason)
        self.reason = reason
        self.proposal = proposal


class StaleVersion(ProposalConflict):
    """The caller decided on a version the proposal has moved on from."""


class ProposalInvalidated(ProposalConflict):
    """The re-check failed: the proposal is now invalidated (committed) and nobody may act on it."""


class PasswordRequired(PermissionDenied):
    """Approving needs a password confirmation within the last 10 minutes."""


class PasswordLockedOut(Exception):
    """Too many wrong passwords: the confirmation counts towards the login lockout (accounts/lockout.py),
    like a wrong password at the login, so it cannot be used to guess the password instead."""


# ---- access


def access_proposal(user, proposal_id, *, manage: bool = False) -> HarvestProposal:
    """Fetch a proposal of a household the caller belongs to: 404 for strangers, 403 when `manage` and
    the caller is not the household's advisor. Sets `viewer_role`."""
    try:
        proposal = HarvestProposal.objects.select_related(
            "household", "account", "policy", "sell_security", "buy_security"
        ).get(pk=int(proposal_id))
    except (HarvestProposal.DoesNotExist, TypeError, ValueError):
        raise Http404("No such proposal") from None
    household = access_household(user, proposal.household_id, manage=manage)
    proposal.viewer_role = household.viewer_role
    return proposal


# ---- who may decide


def proposal_approvers(proposal: HarvestProposal) -> Approvers:
    return account_approvers(proposal.account, policy_governing(proposal))


def within_discretion(proposal: HarvestProposal) -> bool:
    """The household granted the advisor discretion for trades whose proceeds are below the limit."""
    limit = policy_governing(proposal).advisor_discretion_limit
    return limit > 0 and proposal.proceeds < limit


@dataclass(frozen=True)
class Authority:
    role: str | None
    seats: tuple[Seat, ...]
    discretion: bool  # the advisor acting alone under the policy's discretion

    @property
    def can_decide(self) -> bool:
        return bool(self.seats) or self.discretion


def authority_of(user, proposal: HarvestProposal, approvers: Approvers | None = None, role=None) -> Authority:
    role = role if role is not None else role_in(user, proposal.household_id)
    if role not in ACTING_ROLES:
        return Authority(role, (), False)
    approvers = approvers or proposal_approvers(proposal)
    seats = approvers.seats_of(user.pk)
    discretion = not seats and role == Membership.Role.ADVISOR and within_discretion(proposal)
    return Authority(role, seats, discretion)


def check_can_decide(user, proposal: HarvestProposal, approvers: Approvers | None = None, role=None) -> Authority:
    """Raise PermissionDenied unless `user` may approve or reject this proposal. `approvers` and `role`, when
    given, are the account's approvers and the caller's role in the household read in this request."""
    authority = authority_of(user, proposal, approvers, role=role)
    if authority.can_decide:
        return authority
    if authority.role == Membership.Role.REPORTER:
        raise PermissionDenied("A read-only reporter cannot act on proposals.")
    if authority.role == Membership.Role.ADVISOR:
        limit = policy_governing(proposal).advisor_discretion_limit
        if limit > 0:
            raise PermissionDenied(
                f"An advisor cannot approve on an owner's behalf: this trade ({proposal.proceeds}) is not below "
                f"the household's discretion limit of {limit}."
            )
        raise PermissionDenied("An advisor cannot approve on an owner's behalf: the household granted no discretion.")
    raise PermissionDenied(f"You are not an approver of {proposal.account.name}.")


def quorum_met(approvers: Approvers, approvals) -> bool:
    """Whether the approvals (of the current version) satisfy the account's rule."""
    approvals = [a for a in approvals if a.decision == Approval.Decision.APPROVE]
    if any(a.by_discretion for a in approvals):
        return True
    filled = [_seat_filled(seat, approvals) for seat in approvers.seats]
    if not filled:
        return False
    return any(filled) if approvers.any_one else all(filled)


def _seat_filled(seat: Seat, approvals) -> bool:
    users = {a.user_id for a in approvals if a.owner_id == seat.owner_id and a.user_id in seat.user_ids}
    return len(users) >= seat.needed


# ---- step-up: a recent password confirmation before approving


def password_recently_confirmed(request) -> bool:
    mark = request.session.get(PASSWORD_SESSION_KEY) if hasattr(request, "session") else None
    if not mark or mark.get("user") != request.user.pk:
        return False
    at = datetime.fromisoformat(mark["at"])
    return timezone.now() - at < PASSWORD_FRESH_FOR


def password_confirm(request, password: str | None, *, use_session: bool = True) -> None:
    """Pass when the session confirmed the password in the last 10 minutes, or `password` is right (and
    remember that in the session). Raise PasswordRequired otherwise. A wrong password counts towards the
    login lockout (AXES_FAILURE_LIMIT for the username from this address); while the user is locked out
    from here, or when this wrong password locks them out, raise PasswordLockedOut without checking it."""
    from accounts.lockout import count_failure, is_locked_out

    if use_session and password_recently_confirmed(request):
        return
    if not password:
        raise PasswordRequired("Confirm your password to approve (asked once every 10 minutes).")
    if is_locked_out(request, request.user):
        raise PasswordLockedOut()
    if not request.user.check_password(password):
        if count_failure(request, request.user):
            raise PasswordLockedOut()
        raise PasswordRequired("That password is not right. Confirm your password to approve.")
    if use_session and hasattr(request, "session"):
        request.session[PASSWORD_SESSION_KEY] = {"user": request.user.pk, "at": timezone.now().isoformat()}


# ---- reads for pages and the API


@dataclass
class SeatStatus:
    seat: Seat
    approved_by: list[str]
    waiting_for: list[str]
    filled: bool


@dataclass
class ProposalView:
    """A proposal with its approval picture as one viewer sees it (inbox card, detail page, API)."""

    proposal: HarvestProposal
    approvers: Approvers
    seats: list[SeatStatus]
    discretion_by: str | None
    authority: Authority
    decided: bool  # the viewer already decided on the current version
    can_comment: bool
    can_execute: bool
    comments: list = field(default_factory=list)
    history: list = field(default_factory=list)

    @property
    def can_decide(self) -> bool:
        return (
            self.authority.can_decide
            and not self.decided
            and self.proposal.status == Status.AWAITING_APPROVAL
        )

    @property
    def can_reject(self) -> bool:
        return self.authority.can_decide and self.proposal.status in (Status.AWAITING_APPROVAL, Status.APPROVED)

    @property
    def wash_dates(self) -> tuple[date, date, bool]:
        """(window ends, switch back on, actual): from the sale if executed, else if sold today."""
        execution = getattr(self.proposal, "execution", None) if self.proposal.status == Status.EXECUTED else None
        sold = execution.trade_date if execution else timezone.localdate()
        return sold + timedelta(days=30), sold + timedelta(days=31), execution is not None


def proposal_views(proposals, viewer, *, detail: bool = False, roles: dict | None = None) -> list[ProposalView]:
    """Build views for proposals already fetched with `proposals_queryset()` (no per-row queries for lists).
    `roles` ({household id: the viewer's role}), when the caller already read it for every household of
    `proposals`, saves reading the viewer's memberships again."""
    proposals = list(proposals)
    prefetch_trustees(proposals)
    if roles is None:
        roles = dict(Membership.objects.filter(user=viewer).values_list("household_id", "role"))
    in_force: dict[int, object] = {}
    views = []
    for p in proposals:
        if not p.policy_id and p.household_id not in in_force:
            in_force[p.household_id] = policy_in_force(p.household_id)
        if not p.policy_id and in_force[p.household_id] is not None:
            p.policy = in_force[p.household_id]
        approvers = proposal_approvers(p)
        names = _user_names(p)
        current = [a for a in p.approvals.all() if a.proposal_version == p.version]
        approved = [a for a in current if a.decision == Approval.Decision.APPROVE]
        seats = []
        for seat in approvers.seats:
            by = sorted({a.user_id for a in approved if a.owner_id == seat.owner_id and a.user_id in seat.user_ids})
            seats.append(
                SeatStatus(
                    seat=seat,
                    approved_by=[names.get(u, str(u)) for u in by],
                    waiting_for=[names.get(u, str(u)) for u in seat.user_ids if u not in by],
                    filled=len(by) >= seat.needed,
                )
            )
        discretion = next((a for a in approved if a.by_discretion), None)
        role = roles.get(p.household_id)
        authority = authority_of(viewer, p, approvers, role=role or "")
        views.append(
            ProposalView(
                proposal=p,
                approvers=approvers,
                seats=seats,
                discretion_by=(discretion.user.get_full_name() or discretion.user.username) if discretion else None,
                authority=authority,
                decided=any(a.user_id == viewer.pk for a in current),
                can_comment=authority.can_decide or bool(authority.seats) or role == Membership.Role.ADVISOR,
                can_execute=role == Membership.Role.ADVISOR and p.status == Status.APPROVED,
                comments=list(p.comments.all()),
                history=list(p.approvals.all()) if detail else [],
            )
        )
    return views


def proposal_prefetches() -> tuple[Prefetch, ...]:
    """What proposal_views reads of each proposal: the account's owners (with their login), the approvals
    (with who and for which owner) and the comments (with their authors). Three queries for any number of
    proposals: the to-one hops are joined into the prefetch queries. The trusts' trustees:
    prefetch_trustees (proposal_views calls it).

    Each proposal's approvals and comments come in their models' order (proposal, at, id): within one
    proposal that is (at, id), which needs no join to the proposals to sort. The owners' order does not
    matter (account_approvers sorts them, _user_names maps them): by id, not by household and name."""
    return (
        Prefetch("account__owners", queryset=Owner.objects.select_related("user").order_by("id")),
        Prefetch("approvals", queryset=Approval.objects.select_related("user", "owner").order_by("at", "id")),
        Prefetch("comments", queryset=ProposalComment.objects.select_related("user").order_by("at", "id")),
    )


def prefetch_trustees(proposals) -> None:
    """Prefetch the trustees of the trusts among the proposals' account owners (with their owners
    prefetched): one query when there is a trust, none otherwise. Only a trust's trustees are read
    (account_approvers, _user_names); a person's stay unread."""
    trusts = [
        o for p in proposals for o in p.account.owners.all()
        if o.is_trust and "trustees" not in getattr(o, "_prefetched_objects_cache", {})
    ]
    if trusts:
        prefetch_related_objects(trusts, "trustees")


def proposals_queryset():
    return HarvestProposal.objects.select_related(
        "household", "account", "policy", "sell_security", "buy_security"
    ).prefetch_related(*proposal_prefetches())


def _user_names(proposal) -> dict[int, str]:
    names = {}
    for owner in proposal.account.owners.all():
        users = owner.trustees.all() if owner.is_trust else ([owner.user] if owner.user_id else [])
        for u in users:
            names[u.pk] = u.get_full_name() or u.username
    return names


def inbox_proposals(user):
    """What waits for this person: awaiting proposals on accounts they approve for (their own, joint
    ones they co-own, trusts they are a trustee of) that they have not decided on in this version. For an
    advisor also: every awaiting proposal of the households they advise and the approved ones to execute."""
    roles = sorted(ACTING_ROLES)
    params = [
        Status.AWAITING_APPROVAL, user.pk, *roles, user.pk, user.pk, user.pk,
        user.pk, Membership.Role.ADVISOR, Status.AWAITING_APPROVAL, Status.APPROVED,
    ]
    return proposals_queryset().filter(pk__in=RawSQL(_INBOX_IDS, params)).order_by("expires_at", "id")


def _table(model) -> str:
    return model._meta.db_table


# inbox_proposals' selection, in SQL: the ORM took several milliseconds of Python to build and compile it
# on every inbox (tests/approvals/test_owner_queries.py checks it against the ORM formulation):
#   awaiting approval, of a household where the user acts (member, trustee, advisor), on an account one of
#   whose owners is the user or a trust the user is a trustee of, not decided by the user in this version;
#   or awaiting approval or approved, of a household the user advises.
_INBOX_IDS = f"""
    SELECT p.id FROM {_table(HarvestProposal)} p
    WHERE (p.status = %s
           AND p.household_id IN (SELECT m.household_id FROM {_table(Membership)} m
                                  WHERE m.user_id = %s AND m.role IN ({", ".join(["%s"] * len(ACTING_ROLES))}))
           AND EXISTS (SELECT 1 FROM {_table(Account.owners.through)} ao
                       WHERE ao.account_id = p.account_id AND ao.owner_id IN (
                           SELECT o.id FROM {_table(Owner)} o
                           LEFT OUTER JOIN {_table(Owner.trustees.through)} t ON t.owner_id = o.id
                           WHERE o.user_id = %s OR t.user_id = %s))
           AND NOT EXISTS (SELECT 1 FROM {_table(Approval)} a
                           WHERE a.proposal_id = p.id AND a.proposal_version = p.version AND a.user_id = %s))
       OR (p.household_id IN (SELECT m.household_id FROM {_table(Membership)} m WHERE m.user_id = %s AND m.role = %s)
           AND p.status IN (%s, %s))
"""


# ---- services: the state machine


def _lock(proposal_id: int) -> HarvestProposal:
    return (
        HarvestProposal.objects.select_for_update(of=("self",))
        .select_related("household", "account", "policy", "sell_security", "buy_security")
        .get(pk=proposal_id)
    )


def _describe(p: HarvestProposal) -> str:
    return f"{p.get_kind_display()} {p.sell_quantity.normalize():f} {p.sell_security.ticker} -> {p.buy_security.ticker} in {p.account.name}"


def _state_reason(p: HarvestProposal) -> str:
    """Why nothing more can happen to a proposal in its state (409 text)."""
    why = f": {p.status_reason}" if p.status_reason else ""
    return {
        Status.PROPOSED: "This proposal has not been submitted for approval yet.",
        Status.AWAITING_APPROVAL: "This proposal is still awaiting approval.",
        Status.APPROVED: "This proposal is already approved; it waits for the advisor to execute it.",
        Status.EXECUTED: "This proposal was already executed.",
    }.get(p.status, f"This proposal is {p.get_status_display().lower()}{why}.")


def _check_state(p: HarvestProposal, *allowed: str) -> None:
    if p.status not in allowed:
        raise ProposalConflict(_state_reason(p), proposal=p)


def _check_version(p: HarvestProposal, version) -> None:
    try:
        seen = int(version)
    except (TypeError, ValueError):
        raise ValidationError("Say which version of the proposal you decided on.") from None
    if seen != p.version:
        raise StaleVersion(
            f"You saw version {seen}, but the proposal is now at version {p.version}. Review it and decide again.",
            proposal=p,
        )


def _transition(p: HarvestProposal, to: str, *, action: str, actor=None, reason: str = "", request=None,
                after: dict | None = None) -> None:
    """Move a locked proposal to `to` and audit it. Caller holds the row lock inside transaction.atomic."""
    before = {"status": p.status, "version": p.version}
    p.status = to
    if reason:
        p.status_reason = reason
    p.save(update_fields=["status", "status_reason", "updated_at"])
    audit_record(
        action=action,
        actor=actor,
        household=p.household,
        obj=p,
        summary=f"{_describe(p)}: {before['status']} -> {to}" + (f" ({reason})" if reason else ""),
        before=before,
        after={"status": to, "version": p.version, **({"reason": reason} if reason else {}), **(after or {})},
        request=request,
    )


def _participants(p: HarvestProposal, approvers: Approvers | None = None) -> list:
    """Everyone to tell about an outcome: the approvers of the account and the household's advisors."""
    from django.contrib.auth import get_user_model

    approvers = approvers or proposal_approvers(p)
    advisors = Membership.objects.filter(household_id=p.household_id, role=Membership.Role.ADVISOR).values("user_id")
    return list(get_user_model().objects.filter(Q(pk__in=approvers.user_ids) | Q(pk__in=advisors)).order_by("pk"))


def _expire_if_due(p: HarvestProposal, *, now, actor=None, request=None) -> ProposalConflict | None:
    if p.status in OPEN and p.expires_at is not None and p.expires_at <= now:
        reason = f"it was not executed by {timezone.localtime(p.expires_at):%Y-%m-%d %H:%M}"
        _transition(p, Status.EXPIRED, action="proposal.expire", actor=actor, reason=reason, request=request)
        notifications.notify_outcome(p, users=_participants(p))
        return ProposalConflict(_state_reason(p), proposal=p)
    return None


def _recheck(p: HarvestProposal, *, as_of: date) -> str | None:
    """None if the proposal still holds; else the plain reason. Our own lot check, then the scan's."""
    reason = _lots_still_held(p)
    if reason:
        return reason
    import importlib

    try:
        scanning = importlib.import_module("harvester.scanning")
    except ModuleNotFoundError as exc:
        if exc.name != "harvester.scanning":
            raise
        scanning = None
    recheck = getattr(scanning, "proposal_recheck", None)
    if recheck is None:  # the scans' re-check is not there yet
        log.warning("harvester.scanning.proposal_recheck is missing: proposal %s re-checked for its lots only", p.pk)
        return None
    return recheck(p, as_of=as_of)


def _lots_still_held(p: HarvestProposal) -> str | None:
    """Each lot to sell must still hold the shares: open lot quantity less sells recorded since the
    ledger last ran (a specific-lot sell without disposals yet)."""
    origins = [int(entry["origin"]) for entry in p.lots]
    held = dict(
        Lot.objects.filter(account_id=p.account_id, origin_id__in=origins)
        .order_by()  # no joins for Lot's ordering, which a GROUP BY does not use
        .values("origin_id")
        .annotate(q=Sum("quantity"))
        .values_list("origin_id", "q")
    )
    pending = dict(
        Transaction.objects.filter(
            account_id=p.account_id, action=Transaction.Action.SELL, specific_lot_id__in=origins, disposals__isnull=True
        )
        .values("specific_lot_id")
        .annotate(q=Sum("quantity"))
        .values_list("specific_lot_id", "q")
    )
    for entry in p.lots:
        origin = int(entry["origin"])
        want = Decimal(str(entry["quantity"]))
        have = held.get(origin, ZERO) - pending.get(origin, ZERO)
        if have < want:
            return (
                f"the lot from trade #{origin} now holds {have.normalize():f} shares, not {want.normalize():f}: "
                "it was sold or changed since the proposal was made"
            )
    return None


def _invalidate(p: HarvestProposal, reason: str, *, actor=None, request=None) -> ProposalInvalidated:
    _transition(p, Status.INVALIDATED, action="proposal.invalidate", actor=actor, reason=reason, request=request)
    notifications.notify_outcome(p, users=_participants(p))
    return ProposalInvalidated(f"This proposal no longer holds: {reason.rstrip('.')}.", proposal=p)


@transaction.atomic
def proposal_submit(*, proposal: HarvestProposal, actor=None, request=None) -> HarvestProposal:
    """proposed -> awaiting_approval: bind the policy in force, set the expiry, tell each approver.

    Called by the scans right after they create a proposal (actor None: the system)."""
    p = _lock(proposal.pk)
    _check_state(p, Status.PROPOSED)
    _submit_locked([p], actor=actor, request=request)
    return p


@transaction.atomic
def proposals_submit_many(*, proposal_ids, actor=None) -> list[HarvestProposal]:
    """proposal_submit for a batch (the proposals one scan chunk created), in a fixed number of queries
    plus one per proposal that has someone to notify: the same transition, audit event and notifications
    for each. Proposals no longer 'proposed' (a second delivery of the task) are left alone."""
    proposals = list(
        HarvestProposal.objects.select_for_update(of=("self",))
        .select_related("household", "account", "policy", "sell_security", "buy_security")
        .filter(pk__in=list(proposal_ids), status=Status.PROPOSED)
        .order_by("pk")
    )
    _submit_locked(proposals, actor=actor)
    return proposals


def _submit_locked(proposals: list[HarvestProposal], *, actor=None, request=None) -> None:
    """Submit proposals the caller holds locked in state 'proposed' (inside transaction.atomic): bind the
    policy in force, set the expiry, move to awaiting approval with its audit event, then notify each
    account's approvers, and the advisors when the trade is within their discretion."""
    if not proposals:
        return
    prefetch_related_objects([p.account for p in proposals], "owners__trustees")  # account_approvers reads them
    now = timezone.now()
    in_force: dict[int, object] = {}
    events, bound = [], []
    for p in proposals:
        if p.policy_id is None or p.expires_at is None:  # scans set both: a proposal made elsewhere
            bound.append(p)
        if p.policy_id is None:
            if p.household_id not in in_force:
                in_force[p.household_id] = policy_in_force(p.household_id)
            p.policy = in_force[p.household_id]
        policy = policy_governing(p)
        if p.expires_at is None:
            p.expires_at = now + timedelta(days=policy.proposal_expiry_days)
        before = {"status": p.status, "version": p.version}
        p.status, p.updated_at = Status.AWAITING_APPROVAL, now
        events.append(AuditEvent(  # what audit_record writes for _transition(p, AWAITING_APPROVAL, ...)
            action="proposal.submit", actor=actor if (actor is not None and actor.is_authenticated) else None,
            household=p.household, object_type=HarvestProposal.__name__, object_id=str(p.pk),
            summary=f"{_describe(p)}: {before['status']} -> {p.status}"[:300], before=before,
            after={"status": p.status, "version": p.version, "expires_at": p.expires_at.isoformat(),
                   "policy": policy.version or None},
            ip=client_ip(request),
        ))
    for p in bound:
        HarvestProposal.objects.filter(pk=p.pk).update(policy=p.policy, expires_at=p.expires_at)
    HarvestProposal.objects.filter(pk__in=[p.pk for p in proposals]).update(status=Status.AWAITING_APPROVAL,
                                                                            updated_at=now)
    AuditEvent.objects.bulk_create(events)
    plans = [(p, proposal_approvers(p), within_discretion(p)) for p in proposals]
    advisors: dict[int, set[int]] = {}
    discretion = {p.household_id for p, _, within in plans if within}
    if discretion:
        rows = Membership.objects.filter(household_id__in=discretion, role=Membership.Role.ADVISOR)
        for household_id, user_id in rows.values_list("household_id", "user_id"):
            advisors.setdefault(household_id, set()).add(user_id)
    wanted = {u for _, approvers, _ in plans for u in approvers.user_ids}.union(*advisors.values())
    users = {user.pk: user for user in _users(wanted)} if wanted else {}

    def active(ids) -> list:  # as _users(ids): active users in id order
        return [users[i] for i in sorted(set(ids)) if i in users]

    for p, approvers, within in plans:
        notifications.notify_awaiting(p, users=active(approvers.user_ids), rule=approvers.rule)
        if within:
            notifications.notify_awaiting(p, users=active(advisors.get(p.household_id, ())),
                                          rule="Within your discretion: you may approve it alone.")


def proposal_approve(*, proposal: HarvestProposal, user, version, comment: str = "", request=None) -> HarvestProposal:
    """Record `user`'s approval of the proposal's current `version` (one row per owner seat they hold, or
    one advisor-discretion row); approved once the account's rule is met.

    Re-checks the proposal first: if it no longer holds it is invalidated (committed) and
    ProposalInvalidated is raised. Step-up (password) is the caller's job (password_confirm)."""
    failure = None
    with transaction.atomic():
        p = _lock(proposal.pk)
        role = role_in(user, p.household_id)
        # The account's approvers, read once under the lock: the caller's authority and the quorum below
        # are decided on the same reading.
        approvers = proposal_approvers(p) if role in ACTING_ROLES else None
        authority = check_can_decide(user, p, approvers, role=role)
        _check_state(p, Status.AWAITING_APPROVAL)
        _check_version(p, version)
        current = list(Approval.objects.filter(proposal=p, proposal_version=p.version))
        mine = {a.owner_id for a in current if a.user_id == user.pk and a.decision == Approval.Decision.APPROVE}
        seats = [s for s in authority.seats if s.owner_id not in mine]
        already = any(a.by_discretion for a in current) if authority.discretion else not seats
        if already:
            raise ProposalConflict(f"You already approved version {p.version}.", proposal=p)
        now = timezone.now()
        failure = _expire_if_due(p, now=now, actor=user, request=request)
        if failure is None:
            reason = _recheck(p, as_of=timezone.localdate())
            if reason:
                failure = _invalidate(p, reason, actor=user, request=request)
        if failure is None:
            rows = (
                [Approval(proposal=p, proposal_version=p.version, user=user, by_discretion=True,
                          decision=Approval.Decision.APPROVE, comment=comment)]
                if not seats
                else [
                    Approval(proposal=p, proposal_version=p.version, owner_id=s.owner_id, user=user,
                             decision=Approval.Decision.APPROVE, comment=comment)
                    for s in seats
                ]
            )
            Approval.objects.bulk_create(rows)
            met = quorum_met(approvers, [*current, *rows])
            before = {"status": p.status, "version": p.version}
            if met:
                p.status = Status.APPROVED
                p.status_reason = ""
                p.save(update_fields=["status", "status_reason", "updated_at"])
            who = "under the advisor's discretion" if not seats else "for " + ", ".join(s.owner_name for s in seats)
            audit_record(
                action="proposal.approve",
                actor=user,
                household=p.household,
                obj=p,
                summary=f"{_describe(p)}: approved {who}" + (" (quorum met)" if met else ""),
                before=before,
                after={"status": p.status, "version": p.version, "owners": [s.owner_id for s in seats],
                       "by_discretion": not seats, "quorum_met": met},
                request=request,
            )
            if met:
                notifications.notify_outcome(p, users=_participants(p, approvers))
    if failure is not None:
        raise failure
    return p


def proposal_reject(*, proposal: HarvestProposal, user, version, reason: str, request=None) -> HarvestProposal:
    """Any one approver (or the advisor within discretion) can reject the version they saw, with a reason,
    until it is executed. An approved proposal can still be rejected: consent lasts until the trade."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("Say why you reject it: the others will read it.")
    with transaction.atomic():
        p = _lock(proposal.pk)
        authority = check_can_decide(user, p)
        _check_state(p, Status.AWAITING_APPROVAL, Status.APPROVED)
        _check_version(p, version)
        seats = authority.seats
        rows = (
            [Approval(proposal=p, proposal_version=p.version, user=user, by_discretion=True,
                      decision=Approval.Decision.REJECT, comment=reason)]
            if not seats
            else [
                Approval(proposal=p, proposal_version=p.version, owner_id=s.owner_id, user=user,
                         decision=Approval.Decision.REJECT, comment=reason)
                for s in seats
            ]
        )
        Approval.objects.bulk_create(rows)
        name = user.get_full_name() or user.username
        _transition(p, Status.REJECTED, action="proposal.reject", actor=user, reason=f"{name}: {reason}"[:1000],
                    request=request)
        notifications.notify_outcome(p, users=_participants(p))
    return p


@transaction.atomic
def proposal_comment(*, proposal: HarvestProposal, user, body: str) -> ProposalComment:
    """Add to the proposal's thread: its approvers and the household's advisors may write."""
    body = (body or "").strip()
    if not body:
        raise ValidationError("Write something first.")
    if len(body) > 5000:
        raise ValidationError("Keep a comment under 5,000 characters.")
    authority = authority_of(user, proposal)
    if not (authority.seats or authority.role == Membership.Role.ADVISOR):
        raise PermissionDenied("Only this account's approvers and the advisor can comment on it.")
    comment = ProposalComment.objects.create(proposal=proposal, user=user, body=body)
    others = [u for u in _participants(proposal) if u.pk != user.pk]
    notifications.notify_comment(proposal, comment, users=others)
    return comment


@transaction.atomic
def proposal_invalidate(*, proposal: HarvestProposal, reason: str, actor=None, request=None) -> bool:
    """Mark an open proposal invalidated with the reason (e.g. a scan's re-check failed); tell its
    approvers. False if it was no longer open."""
    p = _lock(proposal.pk)
    if p.status not in OPEN:
        return False
    _invalidate(p, reason, actor=actor, request=request)
    return True


@transaction.atomic
def proposal_supersede(*, proposal: HarvestProposal, reason: str = "a newer scan replaced it", actor=None) -> bool:
    """A newer scan replaced an open proposal. False if it was no longer open."""
    p = _lock(proposal.pk)
    if p.status not in OPEN:
        return False
    asked = p.status != Status.PROPOSED
    _transition(p, Status.SUPERSEDED, action="proposal.supersede", actor=actor, reason=reason)
    if asked:  # the approvers were asked about it: tell them it is gone
        notifications.notify_outcome(p, users=_participants(p), email=False)
    return True


def _reopen_if_unapproved(p: HarvestProposal, *, actor=None, request=None) -> ProposalConflict | None:
    """An approved proposal whose current version lacks its quorum (a scan revised it after the
    approvals) goes back to awaiting approval, and its approvers are asked again."""
    approvers = proposal_approvers(p)
    if quorum_met(approvers, Approval.objects.filter(proposal=p, proposal_version=p.version)):
        return None
    reason = f"revised to version {p.version} after it was approved: it needs approval again"
    _transition(p, Status.AWAITING_APPROVAL, action="proposal.reopen", actor=actor, reason=reason, request=request)
    notifications.notify_awaiting(p, users=_users(approvers.user_ids), rule=approvers.rule)
    return ProposalConflict(f"This proposal was {reason}.", proposal=p)


@transaction.atomic
def proposal_revised(*, proposal_id: int, actor=None) -> bool:
    """A scan changed what the proposal says (version + 1): approvals of earlier versions no longer
    count. An approved proposal goes back to awaiting approval; its approvers are asked again.
    False if it is not awaiting approval or approved (a proposal not yet submitted has nobody to ask)."""
    p = _lock(proposal_id)
    if p.status == Status.APPROVED:
        _reopen_if_unapproved(p, actor=actor)
    elif p.status == Status.AWAITING_APPROVAL:
        approvers = proposal_approvers(p)
        notifications.notify_awaiting(p, users=_users(approvers.user_ids), rule=approvers.rule)
    else:
        return False
    return True


@transaction.atomic
def proposal_expire(*, proposal_id: int, now: datetime | None = None) -> bool:
    """Expire one past-due open proposal (beat task). False if it is not due or no longer open."""
    p = _lock(proposal_id)
    return _expire_if_due(p, now=now or timezone.now()) is not None


@transaction.atomic
def proposal_remind(*, proposal_id: int, now: datetime | None = None) -> bool:
    """Remind the approvers who have not decided that the proposal expires within 24 hours: once,
    claimed with a conditional UPDATE so parallel or repeated runs send one reminder."""
    now = now or timezone.now()
    claimed = HarvestProposal.objects.filter(
        pk=proposal_id,
        status=Status.AWAITING_APPROVAL,
        reminded_at__isnull=True,
        expires_at__gt=now,
        expires_at__lte=now + timedelta(hours=24),
    ).update(reminded_at=now)
    if claimed != 1:
        return False
    p = proposals_queryset().get(pk=proposal_id)
    approvers = proposal_approvers(p)
    decided = set(Approval.objects.filter(proposal=p, proposal_version=p.version).values_list("user_id", flat=True))
    waiting = [u for u in approvers.user_ids if u not in decided]
    notifications.notify_reminder(p, users=_users(waiting))
    return True


def _users(ids) -> list:
    from django.contrib.auth import get_user_model

    return list(get_user_model().objects.filter(pk__in=list(ids), is_active=True).order_by("pk"))


# ---- execution


@dataclass(frozen=True)
class Fills:
    """What the custodian filled (or, for a paper execution, the last stored prices)."""

    trade_date: date
    sell_price: Decimal
    sell_quantity: Decimal
    buy_price: Decimal
    buy_quantity: Decimal
    sell_fees: Decimal = ZERO
    buy_fees: Decimal = ZERO

    def as_json(self) -> dict:
        return {k: (v.isoformat() if isinstance(v, date) else str(v)) for k, v in self.__dict__.items()}


def paper_execution_enabled() -> bool:
    """Paper execution at the last price is for the demo (settings.PAPER_EXECUTION; DEBUG by default)."""
    from django.conf import settings

    return bool(getattr(settings, "PAPER_EXECUTION", settings.DEBUG))


def paper_fills(p: HarvestProposal, *, today: date) -> Fills:
    """A demo execution: sell every share at the last stored close; buy the proceeds' worth of the
    replacement at its last close (fractional shares, rounded down to 8 places)."""
    prices = {}
    for security in (p.sell_security, p.buy_security):
        price = Price.objects.filter(security=security, date__lte=today).order_by("-date").first()
        if price is None:
            raise ValidationError(f"No stored price for {security.ticker}: load prices before a paper execution.")
        prices[security.pk] = price.close
    sell_price, buy_price = prices[p.sell_security_id], prices[p.buy_security_id]
    proceeds = to_cents(p.sell_quantity * sell_price)
    return Fills(
        trade_date=today,
        sell_price=sell_price,
        sell_quantity=p.sell_quantity,
        buy_price=buy_price,
        buy_quantity=(proceeds / buy_price).quantize(QUANTUM, rounding=ROUND_DOWN),
    )


def check_fills(p: HarvestProposal, fills: Fills, *, today: date) -> None:
    errors = {}
    if fills.trade_date > today:
        errors["trade_date"] = "The trade date cannot be in the future."
    acquired = Transaction.objects.filter(pk__in=[int(e["origin"]) for e in p.lots]).aggregate(m=Max("trade_date"))["m"]
    if acquired and fills.trade_date < acquired:
        errors["trade_date"] = f"The trade date is before the lots were bought ({acquired:%Y-%m-%d})."
    for name in ("sell_price", "buy_price", "sell_quantity", "buy_quantity"):
        if getattr(fills, name) <= 0:
            errors[name] = "Must be more than zero."
    for name in ("sell_fees", "buy_fees"):
        if getattr(fills, name) < 0:
            errors[name] = "Cannot be negative."
    if fills.sell_quantity > p.sell_quantity:
        errors["sell_quantity"] = f"The proposal sells {p.sell_quantity.normalize():f} shares; no more."
    if errors:
        raise ValidationError(errors)


def proposal_execute(*, proposal: HarvestProposal, user, fills: Fills | None = None, request=None) -> Execution:
    """approved -> executed: record the trades (fills entered, or paper at the last price when `fills` is
    None) in one transaction with the Execution row and the audit event, then recompute the ledger.

    One sell per lot, each naming its lot (specific identification), then the replacement buy, in the
    same account. Re-checks first: a proposal that no longer holds is invalidated instead. Locks the
    proposal, then the household (executions of one household run one at a time). Never executes twice:
    the state check under the lock, and Execution is one-to-one with the proposal."""
    from lots.ledger import ledger_recompute_on_commit

    failure = None
    with transaction.atomic():
        p = _lock(proposal.pk)
        if role_in(user, p.household_id) != Membership.Role.ADVISOR:
            raise PermissionDenied("Only the household's advisor records executions.")
        _check_state(p, Status.APPROVED)
        Household.objects.select_for_update().get(pk=p.household_id)
        today = timezone.localdate()
        method = Execution.Method.FILLS if fills is not None else Execution.Method.PAPER
        fills = fills or paper_fills(p, today=today)
        check_fills(p, fills, today=today)
        failure = _reopen_if_unapproved(p, actor=user, request=request)
        if failure is None:
            failure = _expire_if_due(p, now=timezone.now(), actor=user, request=request)
        if failure is None:
            reason = _recheck(p, as_of=today)
            if reason:
                failure = _invalidate(p, reason, actor=user, request=request)
        if failure is None:
            execution = _record_trades(p, fills, method=method, user=user)
            _transition(
                p, Status.EXECUTED, action="proposal.execute", actor=user, request=request,
                after={"execution": execution.pk, "method": method, **execution.fills},
            )
            notifications.notify_outcome(p, users=_participants(p))
            ledger_recompute_on_commit(p.household_id)
    if failure is not None:
        raise failure
    return execution


def _record_trades(p: HarvestProposal, fills: Fills, *, method: str, user) -> Execution:
    seq = Transaction.objects.filter(account_id=p.account_id, trade_date=fills.trade_date).aggregate(m=Max("seq"))["m"]
    seq = -1 if seq is None else seq
    remaining = fills.sell_quantity
    parts = []
    for entry in p.lots:
        quantity = min(Decimal(str(entry["quantity"])), remaining)
        if quantity > 0:
            parts.append((int(entry["origin"]), quantity))
            remaining -= quantity
    sells = []
    fees_left = fills.sell_fees
    for index, (origin, quantity) in enumerate(parts):
        fee = fees_left if index == len(parts) - 1 else to_cents(fills.sell_fees * quantity / fills.sell_quantity)
        fees_left -= fee
        seq += 1
        sells.append(
            Transaction.objects.create(
                account_id=p.account_id, security_id=p.sell_security_id, trade_date=fills.trade_date, seq=seq,
                action=Transaction.Action.SELL, quantity=quantity, price=fills.sell_price, fees=fee,
                lot_selection=Transaction.LotSelection.SPECIFIC, specific_lot_id=origin,
                source_file=f"proposal:{p.pk}",
            )
        )
    buy = Transaction.objects.create(
        account_id=p.account_id, security_id=p.buy_security_id, trade_date=fills.trade_date, seq=seq + 1,
        action=Transaction.Action.BUY, quantity=fills.buy_quantity, price=fills.buy_price, fees=fills.buy_fees,
        source_file=f"proposal:{p.pk}",
    )
    return Execution.objects.create(
        proposal=p, method=method, executed_by=user, trade_date=fills.trade_date,
        sell_transaction=sells[0], buy_transaction=buy,
        fills={**fills.as_json(), "sell_transactions": [t.pk for t in sells], "buy_transaction": buy.pk},
    )


ORDER_TICKET_HEADER = [
    "proposal", "version", "account", "custodian", "account_number", "sell_ticker", "sell_quantity",
    "lots_specific_identification", "buy_ticker", "buy_amount",
]


def order_ticket_rows(household) -> list[list]:
    """One row per approved proposal: what to tell the custodian, lots named for specific identification."""
    proposals = list(
        HarvestProposal.objects.filter(household=household, status=Status.APPROVED)
        .select_related("account", "sell_security", "buy_security")
        .order_by("account__name", "id")
    )
    origins = {int(e["origin"]) for p in proposals for e in p.lots}
    bought = {t.pk: (t.acquired_date or t.trade_date) for t in Transaction.objects.filter(pk__in=origins)}
    rows = []
    for p in proposals:
        lots = "; ".join(
            f"{Decimal(str(e['quantity'])).normalize():f} sh acquired {bought.get(int(e['origin']), '?')} (trade #{e['origin']})"
            for e in p.lots
        )
        rows.append([
            p.pk, p.version, p.account.name, p.account.custodian, p.account.number_masked, p.sell_security.ticker,
            f"{p.sell_quantity.normalize():f}", lots, p.buy_security.ticker, p.buy_amount,
        ])
    return rows


# ---- the audit trail


@dataclass(frozen=True)
class AuditFilter:
    action: str = ""
    actor_id: int | None = None
    start: date | None = None
    end: date | None = None


def audit_events(household, *, role: str, filters: AuditFilter = AuditFilter()):
    """The household's audit events, newest first. An advisor also sees its members' logins.
    Dates are UTC days, like the stored timestamps."""
    if role not in (Membership.Role.ADVISOR, Membership.Role.MEMBER, Membership.Role.TRUSTEE):
        raise PermissionDenied("The audit trail is for the household's advisor and members.")
    scope = Q(household=household)
    if role == Membership.Role.ADVISOR:
        members = Membership.objects.filter(household=household).values("user_id")
        scope |= Q(household__isnull=True, action__startswith="auth.", actor_id__in=members)
    qs = AuditEvent.objects.filter(scope).select_related("actor")
    if filters.action:
        qs = qs.filter(action=filters.action)
    if filters.actor_id:
        qs = qs.filter(actor_id=filters.actor_id)
    if filters.start:
        qs = qs.filter(at__gte=datetime.combine(filters.start, time.min, tzinfo=UTC))
    if filters.end:
        qs = qs.filter(at__lt=datetime.combine(filters.end + timedelta(days=1), time.min, tzinfo=UTC))
    return qs.order_by("-at", "-id")


AUDIT_CSV_HEADER = ["at_utc", "action", "actor", "ip", "object_type", "object_id", "summary", "before", "after"]


def audit_csv_rows(events) -> list[list]:
    import json

    return [
        [
            e.at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), e.action, e.actor.username if e.actor else "",
            e.ip or "", e.object_type, e.object_id, e.summary,
            json.dumps(e.before, sort_keys=True) if e.before is not None else "",
            json.dumps(e.after, sort_keys=True) if e.after is not None else "",
        ]
        for e in events
    ]
