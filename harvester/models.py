"""The harvest domain's records: the household policy (versioned) and the append-only audit trail."""

from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from harvester.money import MONEY, PRICE, QUANTITY, RATE


class HarvestPolicy(models.Model):
    """What the household agreed to: thresholds, scope, approvers, discretion, expiry, review cadence.

    Versioned: a change is a new row with version+1; the newest version governs new proposals once
    every owner has acknowledged it.
    """

    class Scope(models.TextChoices):
        HOUSEHOLD = "household", "Whole household (conservative)"
        TAXPAYER_UNIT = "taxpayer_unit", "Taxpayer units (legal minimum)"

    class JointApproval(models.TextChoices):
        BOTH = "both", "Both owners"
        EITHER = "either", "Either owner"

    class Cadence(models.TextChoices):
        MONTHLY = "monthly", "Monthly"
        QUARTERLY = "quarterly", "Quarterly"
        SEMIANNUAL = "semiannual", "Twice a year"

    household = models.ForeignKey("accounts.Household", on_delete=models.CASCADE, related_name="policies")
    version = models.PositiveIntegerField()
    min_loss_amount = models.DecimalField(**MONEY, default=Decimal("1000.00"))
    min_loss_percent = models.DecimalField(**RATE, default=Decimal("5.0000"))
    benefit_cost_margin = models.DecimalField(
        **RATE, default=Decimal("2.0000"), help_text="Tax value must exceed trading cost times this factor."
    )
    scope = models.CharField(max_length=16, choices=Scope.choices, default=Scope.HOUSEHOLD)
    joint_approval = models.CharField(max_length=8, choices=JointApproval.choices, default=JointApproval.BOTH)
    trust_quorum = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Blank: all trustees.")
    advisor_discretion_limit = models.DecimalField(**MONEY, default=Decimal("0.00"))
    proposal_expiry_days = models.PositiveSmallIntegerField(default=5)
    switchback_gain_limit = models.DecimalField(**MONEY, default=Decimal("250.00"))
    review_cadence = models.CharField(max_length=12, choices=Cadence.choices, default=Cadence.QUARTERLY)
    change_note = models.CharField(max_length=300, blank=True, help_text="What changed and why (shown in the history).")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["household", "-version"]
        verbose_name_plural = "harvest policies"
        constraints = [
            models.UniqueConstraint(fields=["household", "version"], name="policy_unique_version"),
            models.CheckConstraint(condition=Q(min_loss_amount__gte=0), name="policy_min_loss_nonnegative"),
            models.CheckConstraint(
                condition=Q(min_loss_percent__gte=0) & Q(min_loss_percent__lte=100), name="policy_min_percent_range"
            ),
            models.CheckConstraint(condition=Q(advisor_discretion_limit__gte=0), name="policy_discretion_nonnegative"),
            models.CheckConstraint(condition=Q(proposal_expiry_days__gte=1), name="policy_expiry_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.household} policy v{self.version}"


class PolicyAcknowledgment(models.Model):
    policy = models.ForeignKey(HarvestPolicy, on_delete=models.CASCADE, related_name="acknowledgments")
    owner = models.ForeignKey("accounts.Owner", on_delete=models.CASCADE)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["policy", "owner"], name="acknowledgment_once_per_owner")]

    def __str__(self) -> str:
        return f"{self.owner} acknowledged {self.policy}"


class AuditEvent(models.Model):
    """Append-only: who did what, when (UTC), from where, with the state before and after.

    Written in the same database transaction as the change it records (harvester/audit.py). On
    PostgreSQL a trigger refuses UPDATE and DELETE of these rows.
    """

    household = models.ForeignKey(
        "accounts.Household", on_delete=models.PROTECT, null=True, blank=True, related_name="audit_events"
    )
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True)
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    action = models.CharField(max_length=60, db_index=True)
    object_type = models.CharField(max_length=60, blank=True)
    object_id = models.CharField(max_length=60, blank=True)
    summary = models.CharField(max_length=300, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.object_type}:{self.object_id}"


class HarvestScan(models.Model):
    """One run over one household ("Scan now") or over many (the firm-wide daily scan, in chunks)."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    household = models.ForeignKey(
        "accounts.Household", on_delete=models.CASCADE, null=True, blank=True, related_name="scans",
        help_text="Blank for a firm-wide scan.",
    )
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    as_of = models.DateField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    households_total = models.PositiveIntegerField(default=0)
    households_done = models.PositiveIntegerField(default=0)
    proposals_created = models.PositiveIntegerField(default=0)
    proposals_superseded = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"scan {self.pk} ({self.status})"


class ScanChunk(models.Model):
    """A slice of a scan's households, claimed by one worker with a conditional update; redone if lost."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    scan = models.ForeignKey(HarvestScan, on_delete=models.CASCADE, related_name="chunks")
    index = models.PositiveIntegerField()
    household_ids = models.JSONField(default=list)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["scan", "index"]
        constraints = [models.UniqueConstraint(fields=["scan", "index"], name="scan_chunk_unique_index")]

    def __str__(self) -> str:
        return f"scan {self.scan_id} chunk {self.index} ({self.status})"


OPEN_PROPOSAL_STATES = ("proposed", "awaiting_approval", "approved")


class HarvestProposal(models.Model):
    """Sell these loss lots in this account, buy this replacement with the same dollars; or switch back.

    States: proposed -> awaiting_approval -> approved -> executed; or rejected, expired, invalidated (a
    re-check failed), superseded (a newer scan replaced it). Transitions are enforced by services only.
    `version` increases whenever what an approver sees changes; an approval binds to one version.
    """

    class Kind(models.TextChoices):
        HARVEST = "harvest", "Harvest"
        SWITCH_BACK = "switch_back", "Switch back"

    class Status(models.TextChoices):
        PROPOSED = "proposed", "Proposed"
        AWAITING_APPROVAL = "awaiting_approval", "Awaiting approval"
        APPROVED = "approved", "Approved"
        EXECUTED = "executed", "Executed"
        REJECTED = "rejected", "Rejected"
        EXPIRED = "expired", "Expired"
        INVALIDATED = "invalidated", "Invalidated"
        SUPERSEDED = "superseded", "Superseded"

    household = models.ForeignKey("accounts.Household", on_delete=models.CASCADE, related_name="proposals")
    scan = models.ForeignKey(HarvestScan, on_delete=models.SET_NULL, null=True, blank=True, related_name="proposals")
    policy = models.ForeignKey(HarvestPolicy, on_delete=models.PROTECT, null=True, blank=True)
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.HARVEST)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PROPOSED)
    version = models.PositiveIntegerField(default=1)
    fingerprint = models.CharField(max_length=64, help_text="What is proposed (account, lots, replacement).")
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="proposals")
    sell_security = models.ForeignKey("lots.Security", on_delete=models.PROTECT, related_name="+")
    buy_security = models.ForeignKey("lots.Security", on_delete=models.PROTECT, related_name="+")
    lots = models.JSONField(help_text="[{lot, origin, quantity, basis, price}] relieved by specific identification")
    sell_quantity = models.DecimalField(**QUANTITY)
    price = models.DecimalField(**PRICE, help_text="Close the proposal was computed at.")
    price_date = models.DateField()
    proceeds = models.DecimalField(**MONEY)
    cost_basis = models.DecimalField(**MONEY)
    loss_short_term = models.DecimalField(**MONEY, default=Decimal("0"))
    loss_long_term = models.DecimalField(**MONEY, default=Decimal("0"))
    tax_value = models.DecimalField(**MONEY, default=Decimal("0"))
    trading_cost = models.DecimalField(**MONEY, default=Decimal("0"))
    buy_amount = models.DecimalField(**MONEY)
    checks = models.JSONField(default=list, help_text="[{name, passed, detail}]")
    required_actions = models.JSONField(default=list, help_text="[{kind, text, until}]")
    explanation = models.JSONField(default=dict, help_text="{why_lots, why_account, why_replacement, tax}")
    status_reason = models.TextField(blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True, help_text="When the expiry reminder went out (once).")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["household", "fingerprint"],
                condition=Q(status__in=OPEN_PROPOSAL_STATES),
                name="proposal_one_open_per_fingerprint",
            ),
            models.CheckConstraint(condition=Q(sell_quantity__gt=0), name="proposal_quantity_positive"),
            models.CheckConstraint(condition=~Q(sell_security=F("buy_security")), name="proposal_replacement_differs"),
        ]
        indexes = [models.Index(fields=["status", "expires_at"], name="proposal_status_expiry")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.sell_security_id}->{self.buy_security_id} ({self.status})"

    @property
    def loss(self) -> Decimal:
        return self.loss_short_term + self.loss_long_term


class Approval(models.Model):
    """One owner's (or trustee's) decision on one proposal version.

    `by_discretion`: the advisor decided alone under the household's written discretion (the proposal
    was below the policy's advisor_discretion_limit); such a row names no owner.
    """

    class Decision(models.TextChoices):
        APPROVE = "approve", "Approve"
        REJECT = "reject", "Reject"

    proposal = models.ForeignKey(HarvestProposal, on_delete=models.CASCADE, related_name="approvals")
    proposal_version = models.PositiveIntegerField()
    owner = models.ForeignKey(
        "accounts.Owner", on_delete=models.PROTECT, null=True, blank=True, help_text="Whose authority this is."
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    by_discretion = models.BooleanField(default=False)
    decision = models.CharField(max_length=8, choices=Decision.choices)
    comment = models.TextField(blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["proposal", "at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["proposal", "proposal_version", "owner", "user", "decision"], name="approval_once_per_version"
            ),
            models.UniqueConstraint(
                fields=["proposal", "proposal_version", "decision"],
                condition=Q(by_discretion=True),
                name="approval_one_discretion_per_version",
            ),
            models.CheckConstraint(
                condition=Q(by_discretion=True) | Q(owner__isnull=False), name="approval_names_owner_unless_discretion"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.decision} proposal {self.proposal_id} v{self.proposal_version}"


class ProposalComment(models.Model):
    proposal = models.ForeignKey(HarvestProposal, on_delete=models.CASCADE, related_name="comments")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    body = models.TextField()
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["proposal", "at"]

    def __str__(self) -> str:
        return f"{self.user} on proposal {self.proposal_id}"


class Execution(models.Model):
    """What was actually traded for a proposal. One per proposal: never a double execution."""

    class Method(models.TextChoices):
        FILLS = "fills", "Fills entered"
        IMPORT = "import", "Matched from a custodian import"
        PAPER = "paper", "Paper execution at the last price (demo)"

    proposal = models.OneToOneField(HarvestProposal, on_delete=models.PROTECT, related_name="execution")
    method = models.CharField(max_length=8, choices=Method.choices)
    executed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    executed_at = models.DateTimeField(auto_now_add=True)
    trade_date = models.DateField()
    sell_transaction = models.ForeignKey("lots.Transaction", on_delete=models.PROTECT, null=True, related_name="+")
    buy_transaction = models.ForeignKey("lots.Transaction", on_delete=models.PROTECT, null=True, related_name="+")
    fills = models.JSONField(
        default=dict, blank=True, help_text="{sell_price, sell_quantity, buy_price, buy_quantity, fees, sell_transactions}"
    )

    def __str__(self) -> str:
        return f"execution of proposal {self.proposal_id}"

    @property
    def wash_window_ends(self):
        """The 30th day after the sale: buying the sold group back before then washes the loss (IRC 1091)."""
        return self.trade_date + timedelta(days=30)

    @property
    def switch_back_on(self):
        """The first day a switch back to the sold fund no longer washes the loss (sale + 31 days)."""
        return self.trade_date + timedelta(days=31)


class Notification(models.Model):
    """An in-app message (and its email) to one user: awaiting approval, reminder, outcome."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    household = models.ForeignKey("accounts.Household", on_delete=models.CASCADE, null=True, blank=True)
    proposal = models.ForeignKey(HarvestProposal, on_delete=models.CASCADE, null=True, blank=True)
    kind = models.CharField(max_length=30)
    subject = models.CharField(max_length=200)
    body = models.TextField()
    url = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "read_at"])]

    def __str__(self) -> str:
        return f"{self.kind} for {self.user}"
