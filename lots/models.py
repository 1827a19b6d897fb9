"""Securities and their identity groups, transactions, lots, disposals, wash-sale adjustments, prices
and scheduled purchases (PRODUCT.md "Objects").

Transactions are the source of truth. Lots, disposals and wash-sale adjustments are derived from them by
the ledger service (lots/ledger.py), which runs the pure engine in lots/engine/ and stores its result.
"""

from datetime import date

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from harvester.money import MONEY, PRICE, QUANTITY


class AssetClass(models.Model):
    """An allocation bucket such as us_total_market; replacement chains are kept per asset class."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["code"]
        verbose_name_plural = "asset classes"

    def __str__(self) -> str:
        return self.name


class Security(models.Model):
    ticker = models.CharField(max_length=12, unique=True)
    name = models.CharField(max_length=200)
    asset_class = models.ForeignKey(AssetClass, on_delete=models.PROTECT, related_name="securities")
    verified = models.BooleanField(
        default=False, help_text="Index grouping checked against fund documents; unverified groupings are flagged."
    )
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["ticker"]
        verbose_name_plural = "securities"

    def __str__(self) -> str:
        return self.ticker

    def tracked_index_on(self, day: date) -> str:
        """The index this security tracked on a day: its identity group. Untracked periods: its own
        group, named by its ticker (as lots.engine.IdentityMap names it)."""
        for entry in self.index_history.all():  # ordered newest first
            if entry.since is None or entry.since <= day:
                return entry.index_name
        return self.ticker


class SecurityIndex(models.Model):
    """The index a security tracks from a date (VXUS switched to FTSE on 2013-06-03)."""

    security = models.ForeignKey(Security, on_delete=models.CASCADE, related_name="index_history")
    index_name = models.CharField(max_length=200)
    since = models.DateField(null=True, blank=True, help_text="Blank: since inception.")
    source = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = [F("since").desc(nulls_last=True)]
        verbose_name_plural = "security indexes"
        constraints = [
            models.UniqueConstraint(fields=["security", "since"], name="security_index_unique_since"),
            models.UniqueConstraint(
                fields=["security"], condition=Q(since__isnull=True), name="security_index_one_inception"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.security} tracks {self.index_name} since {self.since or 'inception'}"


class IdentityOverride(models.Model):
    """An advisor's household-level correction of a security's identity group, with the reason."""

    household = models.ForeignKey("accounts.Household", on_delete=models.CASCADE, related_name="identity_overrides")
    security = models.ForeignKey(Security, on_delete=models.CASCADE)
    group = models.CharField(max_length=200)
    reason = models.TextField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["household", "security"], name="identity_override_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.security} as {self.group} in {self.household}"


class ReplacementChain(models.Model):
    """Ordered ETFs of one asset class from different identity groups; household=None is the default chain."""

    asset_class = models.ForeignKey(AssetClass, on_delete=models.CASCADE, related_name="chains")
    household = models.ForeignKey(
        "accounts.Household", on_delete=models.CASCADE, null=True, blank=True, related_name="replacement_chains"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["asset_class", "household"], name="chain_unique_per_household"),
            models.UniqueConstraint(
                fields=["asset_class"], condition=Q(household__isnull=True), name="chain_one_default"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.asset_class} chain ({self.household or 'default'})"


class ReplacementChainEntry(models.Model):
    chain = models.ForeignKey(ReplacementChain, on_delete=models.CASCADE, related_name="entries")
    position = models.PositiveSmallIntegerField()
    security = models.ForeignKey(Security, on_delete=models.PROTECT)

    class Meta:
        ordering = ["chain", "position"]
        verbose_name_plural = "replacement chain entries"
        constraints = [
            models.UniqueConstraint(fields=["chain", "position"], name="chain_entry_unique_position"),
            models.UniqueConstraint(fields=["chain", "security"], name="chain_entry_unique_security"),
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.security}"


class ReplacementExclusion(models.Model):
    """A security a household never wants as a replacement (e.g. held elsewhere, or by preference)."""

    household = models.ForeignKey("accounts.Household", on_delete=models.CASCADE, related_name="exclusions")
    security = models.ForeignKey(Security, on_delete=models.CASCADE)
    reason = models.CharField(max_length=300)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["household", "security"], name="exclusion_unique")]

    def __str__(self) -> str:
        return f"{self.security} excluded in {self.household}"


# (account, text key) unique indexes compare the text byte by byte (pattern opclass on PostgreSQL), not by the
# database's collation: the same equality (any lookup by = uses them), several times cheaper per inserted row.
BYTEWISE_KEY = ["int8_ops", "varchar_pattern_ops"]


class Transaction(models.Model):
    """A trade as the custodian recorded it. Rows of one account and date are in execution order (seq)."""

    class Action(models.TextChoices):
        BUY = "buy", "Buy"
        SELL = "sell", "Sell"
        REINVEST = "reinvest", "Dividend reinvestment"
        TRANSFER_IN = "transfer_in", "Transfer in"
        SPLIT = "split", "Split"

    class LotSelection(models.TextChoices):
        ACCOUNT_DEFAULT = "", "Account default"
        FIFO = "fifo", "First in, first out"
        HIFO = "hifo", "Highest cost first"
        SPECIFIC = "specific", "Specific lot"

    # No index of its own: the (account, trade_date, seq) index serves every lookup by account.
    account = models.ForeignKey(
        "accounts.Account", on_delete=models.PROTECT, related_name="transactions", db_index=False
    )
    security = models.ForeignKey(Security, on_delete=models.PROTECT, related_name="transactions")
    trade_date = models.DateField()
    seq = models.PositiveIntegerField(default=0, help_text="Execution order among trades of the same date.")
    action = models.CharField(max_length=12, choices=Action.choices)
    quantity = models.DecimalField(**QUANTITY)
    price = models.DecimalField(**PRICE)
    fees = models.DecimalField(**MONEY, default=0)
    lot_selection = models.CharField(max_length=10, choices=LotSelection.choices, blank=True, default="")
    specific_lot = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="+", help_text="Buy to relieve.",
        db_index=False,  # indexed below where set: most trades name no lot
    )
    # Transfers in and opening positions carry their own acquisition date and total basis.
    acquired_date = models.DateField(null=True, blank=True)
    basis = models.DecimalField(**MONEY, null=True, blank=True)
    custodian_txn_id = models.CharField(max_length=100, blank=True, default="")
    fingerprint = models.CharField(max_length=80, blank=True, default="", help_text="Content hash for idempotent imports.")
    source_file = models.CharField(max_length=300, blank=True, default="")
    source_row = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["trade_date", "seq", "id"]
        indexes = [
            models.Index(fields=["account", "trade_date", "seq"]),
            # The API's list of a household's trades (all, or one year's), in this order, a page at a time:
            # read in index order and stopped after the page, where (account, ...) leaves a sort of them all.
            models.Index(fields=["trade_date", "seq", "id"], name="transaction_list_order"),
            models.Index(fields=["specific_lot"], condition=Q(specific_lot__isnull=False), name="transaction_specific_lot"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="transaction_quantity_positive"),
            models.CheckConstraint(condition=Q(price__gte=0), name="transaction_price_nonnegative"),
            models.CheckConstraint(condition=Q(fees__gte=0), name="transaction_fees_nonnegative"),
            models.CheckConstraint(
                condition=Q(basis__isnull=True) | Q(basis__gte=0), name="transaction_basis_nonnegative"
            ),
            models.CheckConstraint(
                condition=~Q(lot_selection="specific") | Q(specific_lot__isnull=False),
                name="transaction_specific_names_lot",
            ),
            models.UniqueConstraint(
                fields=["account", "custodian_txn_id"],
                condition=~Q(custodian_txn_id=""),
                name="transaction_unique_custodian_id",
                opclasses=BYTEWISE_KEY,
            ),
            models.UniqueConstraint(
                fields=["account", "fingerprint"],
                condition=~Q(fingerprint=""),
                name="transaction_unique_fingerprint",
                opclasses=BYTEWISE_KEY,
            ),
        ]

    def __str__(self) -> str:
        return f"{self.trade_date} {self.get_action_display()} {self.quantity} {self.security}"

    @property
    def is_acquisition(self) -> bool:
        return self.action in {self.Action.BUY, self.Action.REINVEST, self.Action.TRANSFER_IN}


class Lot(models.Model):
    """Open shares from one acquisition, with basis adjusted for wash sales (derived by the ledger)."""

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="lots")
    security = models.ForeignKey(Security, on_delete=models.PROTECT, related_name="lots")
    # The acquisition that made the lot. One acquisition can leave several pieces: shares that absorbed a
    # wash-sale loss carry their own basis and holding period. On PostgreSQL a trigger keeps a lot in its
    # origin's account, so a lot can never sit in two accounts.
    origin = models.ForeignKey(Transaction, on_delete=models.CASCADE, related_name="lots")
    piece = models.PositiveSmallIntegerField(default=0)
    quantity = models.DecimalField(**QUANTITY)
    cost_basis = models.DecimalField(**MONEY, help_text="Adjusted total basis of the remaining shares.")
    wash_sale_adjustment = models.DecimalField(**MONEY, default=0, help_text="Disallowed loss added to basis.")
    acquired_date = models.DateField()
    holding_period_start = models.DateField(help_text="Tacked back after a wash sale.")

    class Meta:
        ordering = ["account", "security__ticker", "acquired_date", "id"]
        constraints = [
            models.UniqueConstraint(fields=["origin", "piece"], name="lot_unique_piece_of_origin"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="lot_quantity_positive"),
            models.CheckConstraint(condition=Q(cost_basis__gte=0), name="lot_basis_nonnegative"),
            models.CheckConstraint(
                condition=Q(holding_period_start__lte=F("acquired_date")), name="lot_holding_period_not_after_acquired"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} {self.security} acquired {self.acquired_date}"


class Disposal(models.Model):
    """One lot (or part) relieved by one sale: a Form 8949 row when the account is taxable."""

    class Term(models.TextChoices):
        SHORT = "short", "Short-term"
        LONG = "long", "Long-term"

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="disposals")
    security = models.ForeignKey(Security, on_delete=models.PROTECT)
    sale = models.ForeignKey(Transaction, on_delete=models.CASCADE, related_name="disposals")
    origin = models.ForeignKey(Transaction, on_delete=models.CASCADE, related_name="relieved_by")
    quantity = models.DecimalField(**QUANTITY)
    date_acquired = models.DateField()
    date_sold = models.DateField()
    proceeds = models.DecimalField(**MONEY)
    cost_basis = models.DecimalField(**MONEY)
    disallowed = models.DecimalField(**MONEY, default=0)
    code = models.CharField(max_length=4, blank=True)
    gain_loss = models.DecimalField(**MONEY)
    term = models.CharField(max_length=5, choices=Term.choices)
    holding_period_start = models.DateField(help_text="Tacked back when the lot absorbed a wash sale.")
    wash_basis_adjustment = models.DecimalField(**MONEY, default=0, help_text="Earlier disallowed loss in the basis.")
    tax_year = models.PositiveSmallIntegerField()
    reportable = models.BooleanField(help_text="False for sales inside IRAs and workplace plans.")

    class Meta:
        ordering = ["date_sold", "sale_id", "id"]
        indexes = [
            models.Index(fields=["account", "tax_year"]),
            # The API's list of one tax year's disposals in this order, a page at a time (see Transaction).
            models.Index(fields=["tax_year", "date_sold", "sale", "id"], name="disposal_year_list_order"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="disposal_quantity_positive"),
            models.CheckConstraint(condition=Q(disallowed__gte=0), name="disposal_disallowed_nonnegative"),
        ]

    def __str__(self) -> str:
        return f"{self.date_sold} {self.quantity} {self.security} {self.gain_loss}"


class WashSaleAdjustment(models.Model):
    """Which loss went into which replacement shares, and whether it is deferred or lost for good."""

    class Kind(models.TextChoices):
        DEFERRED = "deferred", "Deferred into the replacement's basis"
        PERMANENT = "permanent", "Permanently disallowed (IRA/Roth replacement)"

    disposal = models.ForeignKey(Disposal, on_delete=models.CASCADE, related_name="adjustments")
    replacement = models.ForeignKey(Transaction, on_delete=models.CASCADE, related_name="absorbed_losses")
    replacement_account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")
    quantity = models.DecimalField(**QUANTITY)
    disallowed = models.DecimalField(**MONEY)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    identity_group = models.CharField(max_length=200, help_text="Why the two are substantially identical.")

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="adjustment_quantity_positive"),
            models.CheckConstraint(condition=Q(disallowed__gte=0), name="adjustment_disallowed_nonnegative"),
        ]

    def __str__(self) -> str:
        return f"{self.disallowed} of {self.disposal_id} into {self.replacement_id} ({self.kind})"


class Price(models.Model):
    """A daily close."""

    security = models.ForeignKey(Security, on_delete=models.CASCADE, related_name="prices")
    date = models.DateField()
    close = models.DecimalField(**PRICE)
    source = models.CharField(max_length=40, default="csv", help_text="csv, yahoo, stooq, synthetic (demo only)…")

    class Meta:
        ordering = ["security", "-date"]
        constraints = [
            models.UniqueConstraint(fields=["security", "date"], name="price_one_per_day"),
            models.CheckConstraint(condition=Q(close__gt=0), name="price_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.security} {self.date} {self.close}"


class ScheduledPurchase(models.Model):
    """An automatic buy (contribution, DRIP, payroll plan) the forward-looking wash-sale guard must see."""

    class Kind(models.TextChoices):
        CONTRIBUTION = "contribution", "Recurring contribution"
        DRIP = "drip", "Dividend reinvestment (DRIP)"
        PAYROLL = "payroll", "Payroll plan purchase"

    class Frequency(models.TextChoices):
        WEEKLY = "weekly", "Weekly"
        BIWEEKLY = "biweekly", "Every two weeks"
        SEMIMONTHLY = "semimonthly", "Twice a month (1st and 15th)"
        MONTHLY = "monthly", "Monthly"
        QUARTERLY = "quarterly", "Quarterly"

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="scheduled_purchases")
    security = models.ForeignKey(Security, on_delete=models.PROTECT)
    kind = models.CharField(max_length=12, choices=Kind.choices)
    frequency = models.CharField(max_length=12, choices=Frequency.choices)
    amount = models.DecimalField(**MONEY, null=True, blank=True, help_text="Blank for a DRIP (the dividend).")
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)
    paused_until = models.DateField(null=True, blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["account", "security__ticker"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__isnull=True) | Q(amount__gt=0), name="scheduled_amount_positive"),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=F("start_date")), name="scheduled_end_after_start"
            ),
            models.CheckConstraint(condition=~Q(kind="drip") | Q(amount__isnull=True), name="scheduled_drip_no_amount"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.security} in {self.account}"


class ImportBatch(models.Model):
    """One uploaded file between preview and confirm: its exact text and sha256, the options it was
    previewed with, and the preview's summary. Confirm re-reads this text, so it commits what was previewed."""

    class Status(models.TextChoices):
        PREVIEWED = "previewed", "Previewed"
        REFUSED = "refused", "Refused (cannot be imported)"
        COMMITTED = "committed", "Committed"

    household = models.ForeignKey("accounts.Household", on_delete=models.CASCADE, related_name="import_batches")
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="import_batches")
    file_name = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    content = models.TextField(help_text="The uploaded text, decoded (UTF-8 or Windows-1252).")
    format = models.CharField(max_length=40, blank=True)
    options = models.JSONField(default=dict, blank=True, help_text="source_account, as_of, new_securities.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PREVIEWED)
    summary = models.JSONField(default=dict, blank=True)
    plan_digest = models.CharField(max_length=64, blank=True, help_text="What confirm must find to write.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    committed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    committed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["household", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.file_name} into {self.account} ({self.get_status_display()})"
