"""The household policy: versions, acknowledgments, and who approves what under it.

A policy change is a new row (version + 1). A version governs new proposals only once every owner of the
household has acknowledged it (persons for themselves, a trust through one of its trustees):
`policy_in_force(household)` is the newest fully acknowledged version, or None.

Also here: the audit of authority that changes outside the proposal flow (logins, memberships, trustees,
account owners), connected in HarvesterConfig.ready().
"""

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Q

from accounts.models import Account, Household, Membership, Owner
from harvester.audit import audit_record
from harvester.models import HarvestPolicy, PolicyAcknowledgment

# The fields an advisor edits; a new version copies the previous one and changes some of these.
POLICY_FIELDS = (
    "min_loss_amount",
    "min_loss_percent",
    "benefit_cost_margin",
    "scope",
    "joint_approval",
    "trust_quorum",
    "advisor_discretion_limit",
    "proposal_expiry_days",
    "switchback_gain_limit",
    "review_cadence",
)
CADENCE_MONTHS = {"monthly": 1, "quarterly": 3, "semiannual": 6}


class PolicyConflict(Exception):
    """The request does not fit the policy's current state (HTTP 409), e.g. acknowledging an old version."""


def policy_snapshot(policy: HarvestPolicy | None) -> dict | None:
    """The policy's terms as JSON-safe values (audit before/after, API)."""
    if policy is None:
        return None
    data = {name: getattr(policy, name) for name in POLICY_FIELDS}
    return {"version": policy.version, **{k: (str(v) if v is not None else None) for k, v in data.items()}}


# ---- selectors


def policy_newest(household) -> HarvestPolicy | None:
    return HarvestPolicy.objects.filter(household=household).order_by("-version").first()


def policy_in_force(household) -> HarvestPolicy | None:
    """The newest version every owner of the household has acknowledged; None while there is none.

    For the scans: proposals are made under this version (HarvestProposal.policy). A household whose
    owners have not acknowledged any version has no policy in force and gets no proposals.
    """
    household_id = household.pk if isinstance(household, Household) else int(household)
    owners = Owner.objects.filter(household_id=household_id).count()
    return (
        HarvestPolicy.objects.filter(household_id=household_id)
        .annotate(acknowledged=Count("acknowledgments__owner", distinct=True))
        .filter(acknowledged__gte=owners)
        .order_by("-version")
        .first()
    )


def policy_governing(proposal) -> HarvestPolicy:
    """The policy a proposal is decided under: the one it was made under, else the one in force, else the
    defaults (both joint owners, all trustees, no advisor discretion: the most conservative terms)."""
    if proposal.policy_id:
        return proposal.policy
    return policy_in_force(proposal.household_id) or HarvestPolicy(household_id=proposal.household_id, version=0)


@dataclass(frozen=True)
class OwnerAcknowledgment:
    owner_id: int
    owner_name: str
    is_trust: bool
    acts_through: str  # plain words: "Alex", "trustees Taylor, Sam", "nobody: no login"
    acknowledged_by: str | None
    acknowledged_at: object  # datetime | None
    can_acknowledge: bool  # whether the viewer may acknowledge for this owner


def policy_acknowledgments(policy: HarvestPolicy, *, viewer=None) -> list[OwnerAcknowledgment]:
    """Each owner of the household and whether (and by whom) they acknowledged this version."""
    owners = Owner.objects.filter(household_id=policy.household_id).select_related("user").prefetch_related("trustees")
    acks = {
        a.owner_id: a for a in PolicyAcknowledgment.objects.filter(policy=policy).select_related("user")
    }
    rows = []
    for owner in owners:
        actors = _owner_users(owner)
        ack = acks.get(owner.pk)
        if owner.is_trust:
            acts = "trustees " + ", ".join(_name(u) for u in actors) if actors else "nobody: the trust has no trustees"
        else:
            acts = _name(owner.user) if owner.user else "nobody: no login"
        rows.append(
            OwnerAcknowledgment(
                owner_id=owner.pk,
                owner_name=owner.name,
                is_trust=owner.is_trust,
                acts_through=acts,
                acknowledged_by=_name(ack.user) if ack else None,
                acknowledged_at=ack.at if ack else None,
                can_acknowledge=bool(viewer and ack is None and any(u.pk == viewer.pk for u in actors)),
            )
        )
    return rows


def policy_history(household) -> list[dict]:
    """Every version, newest first, with who made it, its note, the fields it changed and its acknowledgments."""
    versions = list(
        HarvestPolicy.objects.filter(household=household)
        .select_related("created_by")
        .annotate(acknowledged=Count("acknowledgments", distinct=True))
        .order_by("version")
    )
    previous = None
    history = []
    for policy in versions:
        changed = [
            HarvestPolicy._meta.get_field(name).verbose_name
            for name in POLICY_FIELDS
            if previous is not None and getattr(previous, name) != getattr(policy, name)
        ]
        history.append({"policy": policy, "changed": changed})
        previous = policy
    return history[::-1]


# ---- who approves what


@dataclass(frozen=True)
class Seat:
    """One owner's authority over an account: which logins may exercise it and how many of them must."""

    owner_id: int
    owner_name: str
    is_trust: bool
    user_ids: tuple[int, ...]
    needed: int


@dataclass(frozen=True)
class Approvers:
    seats: tuple[Seat, ...]
    any_one: bool  # a joint account whose household lets either owner approve
    rule: str  # the rule in plain words

    def seats_of(self, user_id: int) -> tuple[Seat, ...]:
        return tuple(s for s in self.seats if user_id in s.user_ids)

    @property
    def user_ids(self) -> set[int]:
        return {u for s in self.seats for u in s.user_ids}


def account_approvers(account: Account, policy: HarvestPolicy) -> Approvers:
    """PRODUCT.md "Authorization": an individual account its owner; a joint account both owners (or
    either, if the policy says so); a trust account its trustees with a quorum (default: all).

    Reads account.owners.all() and each trust's trustees.all(): prefetch them for lists.
    """
    seats = []
    for owner in sorted(account.owners.all(), key=lambda o: o.pk):
        if owner.is_trust:
            trustees = tuple(sorted(u.pk for u in owner.trustees.all()))
            quorum = policy.trust_quorum or len(trustees)
            seats.append(Seat(owner.pk, owner.name, True, trustees, max(1, min(quorum, len(trustees)))))
        else:
            seats.append(Seat(owner.pk, owner.name, False, (owner.user_id,) if owner.user_id else (), 1))
    any_one = account.kind == Account.Kind.JOINT and policy.joint_approval == HarvestPolicy.JointApproval.EITHER
    if account.kind == Account.Kind.JOINT:
        rule = "Either owner may approve." if any_one else "Both owners must approve."
    elif any(s.is_trust for s in seats):
        seat = next(s for s in seats if s.is_trust)
        rule = (
            "Every trustee must approve."
            if seat.needed >= len(seat.user_ids)
            else f"{seat.needed} of the {len(seat.user_ids)} trustees must approve."
        )
    else:
        rule = "The owner approves."
    return Approvers(tuple(seats), any_one, rule)


def household_account_approvers(household, policy: HarvestPolicy) -> list[tuple[Account, Approvers, list[str]]]:
    """Every account of the household with its approvers under `policy` and their names (policy page)."""
    accounts = Account.objects.filter(household=household).prefetch_related("owners__trustees", "owners__user")
    rows = []
    for account in accounts.order_by("name"):
        names = []
        for owner in account.owners.all():
            if owner.is_trust:
                names.append(f"{owner.name} (trustees: {', '.join(_name(u) for u in owner.trustees.all()) or 'none'})")
            else:
                names.append(_name(owner.user) if owner.user else f"{owner.name} (no login)")
        rows.append((account, account_approvers(account, policy), names))
    return rows


# ---- services


@transaction.atomic
def policy_create_version(*, household: Household, actor, values: dict, note: str = "", request=None) -> HarvestPolicy:
    """Write version N+1 with `values` (a subset of POLICY_FIELDS; the rest copied from version N).

    Only an advisor may change the policy. Locks the household row so two edits get two numbers.
    The new version governs nothing until every owner acknowledges it.
    """
    if Membership.objects.filter(household=household, user=actor, role=Membership.Role.ADVISOR).count() != 1:
        raise PermissionDenied("Only the household's advisor can change the policy.")
    Household.objects.select_for_update().get(pk=household.pk)
    previous = policy_newest(household)
    unknown = set(values) - set(POLICY_FIELDS)
    if unknown:
        raise ValidationError(f"Not policy terms: {', '.join(sorted(unknown))}")
    terms = {name: getattr(previous, name) for name in POLICY_FIELDS} if previous else {}
    terms.update(values)
    if previous is not None and all(getattr(previous, k) == v for k, v in terms.items()):
        raise ValidationError(f"Nothing changed: the new version would equal version {previous.version}.")
    policy = HarvestPolicy(
        household=household,
        version=(previous.version + 1) if previous else 1,
        created_by=actor,
        change_note=note[:300],
        **terms,
    )
    policy.full_clean(exclude=["household", "created_by"])
    policy.save()
    audit_record(
        action="policy.version",
        actor=actor,
        household=household,
        obj=policy,
        summary=f"Policy version {policy.version} drafted" + (f": {note}" if note else ""),
        before=policy_snapshot(previous),
        after=policy_snapshot(policy),
        request=request,
    )
    from harvester import notifications

    notifications.notify_policy_version(policy, users=_household_owner_users(household))
    return policy


@transaction.atomic
def policy_acknowledge(*, policy: HarvestPolicy, user, request=None) -> list[PolicyAcknowledgment]:
    """Record `user`'s acknowledgment of `policy` for every owner they act for that has not yet
    acknowledged it (themselves; each trust they are a trustee of). Only the newest version can be
    acknowledged (409 otherwise); someone who acts for no owner gets 403."""
    Household.objects.select_for_update().get(pk=policy.household_id)
    newest = policy_newest(policy.household_id)
    if newest is None or newest.pk != policy.pk:
        raise PolicyConflict(f"Version {policy.version} has been replaced by version {newest.version}; acknowledge that.")
    role = Membership.objects.filter(household_id=policy.household_id, user=user).values_list("role", flat=True).first()
    owners = [
        o
        for o in Owner.objects.filter(household_id=policy.household_id).filter(Q(user=user) | Q(trustees=user)).distinct()
    ]
    if role in (None, Membership.Role.REPORTER) or not owners:
        raise PermissionDenied("Only the household's owners (or a trust's trustees) acknowledge its policy.")
    done = set(PolicyAcknowledgment.objects.filter(policy=policy).values_list("owner_id", flat=True))
    todo = [o for o in owners if o.pk not in done]
    if not todo:
        raise PolicyConflict(f"Version {policy.version} is already acknowledged for you.")
    before_in_force = policy_in_force(policy.household_id)
    created = [PolicyAcknowledgment.objects.create(policy=policy, owner=o, user=user) for o in todo]
    in_force = policy_in_force(policy.household_id)
    audit_record(
        action="policy.acknowledge",
        actor=user,
        household=policy.household,
        obj=policy,
        summary=f"Policy version {policy.version} acknowledged for {', '.join(o.name for o in todo)}",
        before={"in_force": before_in_force.version if before_in_force else None},
        after={"in_force": in_force.version if in_force else None, "owners": [o.pk for o in todo]},
        request=request,
    )
    return created


# ---- helpers


def _name(user) -> str:
    return (user.get_full_name() or user.username) if user is not None else "nobody"


def _owner_users(owner: Owner) -> list:
    if owner.is_trust:
        return list(owner.trustees.all())
    return [owner.user] if owner.user_id else []


def _household_owner_users(household) -> list:
    users = {}
    for owner in Owner.objects.filter(household=household).select_related("user").prefetch_related("trustees"):
        for u in _owner_users(owner):
            users[u.pk] = u
    return list(users.values())


# ---- authority changes outside the app: logins and the admin's membership edits


def audit_login(sender, request, user, **kwargs):
    with transaction.atomic():
        audit_record(action="auth.login", actor=user, obj=user, summary=f"{user.username} logged in", request=request)


def audit_login_failed(sender, credentials, request=None, **kwargs):
    """A wrong password (or code) for a username. The username is recorded only when it names a user: what
    was typed into the username field may be a password, and the audit log keeps it for good."""
    User = get_user_model()
    typed = str(credentials.get(User.USERNAME_FIELD) or credentials.get("username") or "")
    user = User.objects.filter(**{User.USERNAME_FIELD: typed}).first() if typed else None
    username = user.get_username() if user else None
    where = {"path": request.path[:200]} if request is not None else {}
    with transaction.atomic():
        audit_record(action="auth.login_failed", obj=user, request=request, after={"username": username, **where},
                     summary=f"Failed login as {username!r}" if user else "Failed login with an unknown username")


def audit_membership_saved(sender, instance: Membership, created: bool, raw: bool = False, **kwargs):
    if raw:
        return
    with transaction.atomic():
        audit_record(
            action="membership.create" if created else "membership.change",
            household=instance.household,
            obj=instance,
            summary=f"{instance.user} is {instance.get_role_display()} of {instance.household}",
            after={"user": instance.user_id, "role": instance.role},
        )


def audit_membership_deleted(sender, instance: Membership, **kwargs):
    # During a household's cascade delete the household row is about to go: record it without the link.
    with transaction.atomic():
        audit_record(
            action="membership.delete",
            household=instance.household if Household.objects.filter(pk=instance.household_id).exists() else None,
            obj=instance,
            summary=f"{instance.user_id} removed from household {instance.household_id}",
            before={"user": instance.user_id, "role": instance.role, "household": instance.household_id},
        )


def audit_m2m_authority(sender, instance, action: str, reverse: bool, model, pk_set, **kwargs):
    """Trustees of a trust and owners of an account decide who approves: record every change."""
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    if sender is Owner.trustees.through:
        what = "owner.trustees"
    else:
        what = "account.owners"
    household_id = getattr(instance, "household_id", None)
    with transaction.atomic():
        audit_record(
            action=f"{what}.{action.removeprefix('post_')}",
            household=Household.objects.filter(pk=household_id).first() if household_id else None,
            obj=instance,
            summary=f"{what} {action.removeprefix('post_')} on {type(instance).__name__} {instance.pk}",
            after={"ids": sorted(pk_set or []), "reverse": reverse},
        )
