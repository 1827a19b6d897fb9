"""The harvest domain's records: the household policy (versioned) and the append-only audit trail."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q

from harvester.money import MONEY, RATE


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
