"""Households, owners, taxpayer units, accounts and who may see them (PRODUCT.md "Objects")."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from harvester.money import MONEY, RATE


class Household(models.Model):
    """The unit of coordination: owners, accounts, a policy and a target allocation."""

    name = models.CharField(max_length=200)
    # Wash-sale coverage is incomplete before the first trade we know of (opening positions imported).
    history_complete_from = models.DateField(
        null=True, blank=True, help_text="First trade date with complete history; earlier wash sales are unknown."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """A login's relation to a household. Every access check starts here."""

    class Role(models.TextChoices):
        ADVISOR = "advisor", "Advisor"
        MEMBER = "member", "Household member"
        TRUSTEE = "trustee", "Trustee"
        REPORTER = "reporter", "Read-only reporter"

    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["household", "user"], name="membership_unique_user")]

    def __str__(self) -> str:
        return f"{self.user} – {self.get_role_display()} of {self.household}"


class TaxpayerUnit(models.Model):
    """A wash-sale family: a person, their spouse, their IRAs and grantor trusts (Pub. 550).

    A non-grantor trust is its own unit. Wash-sale *reporting* always uses these units.
    """

    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="taxpayer_units")
    name = models.CharField(max_length=200)

    class Meta:
        ordering = ["household", "name"]
        constraints = [models.UniqueConstraint(fields=["household", "name"], name="taxpayer_unit_unique_name")]

    def __str__(self) -> str:
        return self.name


class Owner(models.Model):
    """A person or a trust that owns accounts. A person may log in; a trust acts through its trustees."""

    class Kind(models.TextChoices):
        PERSON = "person", "Person"
        GRANTOR_TRUST = "grantor_trust", "Grantor trust"
        NON_GRANTOR_TRUST = "non_grantor_trust", "Non-grantor trust"

    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="owners")
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.PERSON)
    taxpayer_unit = models.ForeignKey(TaxpayerUnit, on_delete=models.PROTECT, related_name="owners")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="owner_profiles",
        help_text="The person's own login (persons only).",
    )
    trustees = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="trusts", help_text="Logins that act for a trust."
    )

    class Meta:
        ordering = ["household", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="person") | Q(user__isnull=True), name="owner_only_persons_log_in"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_trust(self) -> bool:
        return self.kind != self.Kind.PERSON


class OwnerTaxProfile(models.Model):
    """An owner's tax situation for one year: the inputs of the marginal-rate projection."""

    class FilingStatus(models.TextChoices):
        SINGLE = "single", "Single"
        MFJ = "mfj", "Married filing jointly"
        MFS = "mfs", "Married filing separately"
        HOH = "hoh", "Head of household"
        TRUST = "trust", "Trust or estate"

    owner = models.ForeignKey(Owner, on_delete=models.CASCADE, related_name="tax_profiles")
    year = models.PositiveSmallIntegerField(validators=[MinValueValidator(2000), MaxValueValidator(2100)])
    filing_status = models.CharField(max_length=8, choices=FilingStatus.choices)
    ordinary_income = models.DecimalField(**MONEY, default=Decimal("0"))
    state_rate = models.DecimalField(**RATE, default=Decimal("0"), help_text="Percent, e.g. 5.0000")
    outside_short_term_gains = models.DecimalField(**MONEY, default=Decimal("0"))
    outside_long_term_gains = models.DecimalField(**MONEY, default=Decimal("0"))
    carryforward_short_term = models.DecimalField(**MONEY, default=Decimal("0"))
    carryforward_long_term = models.DecimalField(**MONEY, default=Decimal("0"))

    class Meta:
        ordering = ["owner", "-year"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "year"], name="tax_profile_one_per_year"),
            models.CheckConstraint(
                condition=Q(state_rate__gte=0) & Q(state_rate__lte=100), name="tax_profile_state_rate_percent"
            ),
            models.CheckConstraint(
                condition=Q(carryforward_short_term__gte=0) & Q(carryforward_long_term__gte=0),
                name="tax_profile_carryforward_nonnegative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.owner} {self.year}"


class Account(models.Model):
    """A custodial account. Joint accounts have two owners; everything else one."""

    class Kind(models.TextChoices):
        INDIVIDUAL = "individual", "Taxable individual"
        JOINT = "joint", "Taxable joint"
        TRUST = "trust", "Taxable trust"
        IRA = "ira", "Traditional IRA"
        ROTH = "roth", "Roth IRA"
        K401 = "401k", "401(k)"
        HSA = "hsa", "HSA"

    TAXABLE_KINDS = frozenset({Kind.INDIVIDUAL, Kind.JOINT, Kind.TRUST})

    class LotMethod(models.TextChoices):
        FIFO = "fifo", "First in, first out"
        HIFO = "hifo", "Highest cost first"
        SPECIFIC = "specific", "Specific identification"

    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="accounts")
    name = models.CharField(max_length=200)
    custodian = models.CharField(max_length=100, blank=True)
    number_masked = models.CharField(max_length=20, blank=True, help_text="Last digits only, e.g. ****1234")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    owners = models.ManyToManyField(Owner, related_name="accounts")
    lot_method = models.CharField(max_length=10, choices=LotMethod.choices, default=LotMethod.FIFO)

    class Meta:
        ordering = ["household", "name"]
        constraints = [
            models.UniqueConstraint(fields=["household", "name"], name="account_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_taxable(self) -> bool:
        return self.kind in self.TAXABLE_KINDS

    @property
    def engine_kind(self) -> str:
        """The account kind as the wash-sale engine knows it (taxable, ira, roth, 401k, hsa)."""
        return "taxable" if self.is_taxable else self.kind


class TargetAllocation(models.Model):
    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="target_allocations")
    asset_class = models.ForeignKey("lots.AssetClass", on_delete=models.PROTECT)
    weight_percent = models.DecimalField(**RATE)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["household", "asset_class"], name="target_allocation_unique"),
            models.CheckConstraint(
                condition=Q(weight_percent__gte=0) & Q(weight_percent__lte=100), name="target_allocation_percent"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.asset_class} {self.weight_percent}%"
