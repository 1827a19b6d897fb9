"""The REST API for reporting tools: read-only, every object fetched through the access layer.

One view class per operation; small output serializers; money as decimal strings. Lists are paginated
(?limit=&offset=, at most 1000 a page) and scoped to the caller's households; errors are
{"detail", "code"} (reporting/api_errors.py). Guide: docs/reporting.md.
"""

import functools
import json
from datetime import date, timedelta
from urllib import parse

from django.db import connection
from django.db.models import Q
from django.http import HttpResponse
from django.urls import path
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.generics import ListAPIView, RetrieveAPIView
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.access import access_household, households_for
from accounts.models import Account, Household, Owner
from lots import selectors
from lots.engine import holding_term
from reporting.selectors import OpenLotRow, open_lots_page, open_lots_page_json

TAGS = ["reporting"]


class OwnerOut(serializers.ModelSerializer):
    taxpayer_unit = serializers.CharField(source="taxpayer_unit.name")

    class Meta:
        model = Owner
        fields = ["id", "name", "kind", "taxpayer_unit"]


class AccountOut(serializers.ModelSerializer):
    owners = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = Account
        fields = ["id", "name", "custodian", "number_masked", "kind", "owners", "lot_method"]


class HouseholdOut(serializers.ModelSerializer):
    class Meta:
        model = Household
        fields = ["id", "name", "history_complete_from"]


class HouseholdDetailOut(HouseholdOut):
    owners = OwnerOut(many=True, read_only=True)
    accounts = AccountOut(many=True, read_only=True)

    class Meta(HouseholdOut.Meta):
        fields = [*HouseholdOut.Meta.fields, "owners", "accounts"]


class LotOut(serializers.Serializer):
    id = serializers.IntegerField(source="lot.id")
    account = serializers.IntegerField(source="lot.account_id")
    ticker = serializers.CharField(source="lot.security.ticker")
    quantity = serializers.DecimalField(source="lot.quantity", max_digits=20, decimal_places=8)
    cost_basis = serializers.DecimalField(source="lot.cost_basis", max_digits=16, decimal_places=2)
    wash_sale_adjustment = serializers.DecimalField(
        source="lot.wash_sale_adjustment", max_digits=16, decimal_places=2
    )
    acquired_date = serializers.DateField(source="lot.acquired_date")
    holding_period_start = serializers.DateField(source="lot.holding_period_start")
    origin_transaction = serializers.IntegerField(source="lot.origin_id")
    price = serializers.DecimalField(source="quote.close", max_digits=16, decimal_places=6, allow_null=True)
    price_date = serializers.DateField(source="quote.date", allow_null=True)
    market_value = serializers.DecimalField(max_digits=16, decimal_places=2, allow_null=True)
    unrealized = serializers.DecimalField(max_digits=16, decimal_places=2, allow_null=True)
    term = serializers.CharField()


@extend_schema(tags=TAGS)
class HouseholdList(ListAPIView):
    """The households the caller belongs to or advises."""

    serializer_class = HouseholdOut

    def get_queryset(self):
        return households_for(self.request.user).order_by("name", "id")


@extend_schema(tags=TAGS)
class HouseholdDetail(RetrieveAPIView):
    """One household with its owners and accounts (404 outside the caller's households)."""

    serializer_class = HouseholdDetailOut

    def get_object(self):
        return access_household(self.request.user, self.kwargs["household_id"])


class HouseholdLots(APIView):
    """Every open lot of the household, valued at the latest price, with its term if sold today."""

    @extend_schema(responses=LotOut(many=True), tags=TAGS, description=(
        "Every open lot in one unpaginated list (kept for existing clients; new clients use open-lots/)."))
    def get(self, request, household_id: int):
        household = access_household(request.user, household_id)
        views = selectors.household_lots(household, as_of=timezone.localdate())
        return Response(LotOut(views, many=True).data)


class DisposalOut(serializers.Serializer):
    owners = serializers.CharField()
    part = serializers.CharField()
    box = serializers.CharField()
    description = serializers.CharField()
    date_acquired = serializers.DateField()
    date_sold = serializers.DateField()
    proceeds = serializers.DecimalField(max_digits=16, decimal_places=2)
    cost_basis = serializers.DecimalField(max_digits=16, decimal_places=2)
    code = serializers.CharField(allow_blank=True)
    adjustment = serializers.CharField(allow_blank=True, help_text="Disallowed wash-sale loss, positive; blank if none.")
    gain_loss = serializers.DecimalField(max_digits=16, decimal_places=2)
    tax_year = serializers.IntegerField()
    account = serializers.IntegerField()
    account_name = serializers.CharField()
    ticker = serializers.CharField()
    sell_trade = serializers.IntegerField()
    buy_trade = serializers.IntegerField()


class YearTotalsOut(serializers.Serializer):
    owners = serializers.CharField()
    tax_year = serializers.IntegerField()
    proceeds = serializers.DecimalField(max_digits=16, decimal_places=2)
    cost_basis = serializers.DecimalField(max_digits=16, decimal_places=2)
    wash_sale_disallowed = serializers.DecimalField(max_digits=16, decimal_places=2)
    short_term_gain_loss = serializers.DecimalField(max_digits=16, decimal_places=2)
    long_term_gain_loss = serializers.DecimalField(max_digits=16, decimal_places=2)
    deferred = serializers.DecimalField(max_digits=16, decimal_places=2)
    permanent = serializers.DecimalField(max_digits=16, decimal_places=2)


class HouseholdForm8949(APIView):
    """Form 8949 rows (reportable sales) of the household for `?year=` (all years if omitted)."""

    @extend_schema(
        responses=DisposalOut(many=True),
        parameters=[OpenApiParameter("year", int, required=False, description="Tax year")],
        tags=TAGS,
    )
    def get(self, request, household_id: int):
        household = access_household(request.user, household_id)
        year = request.query_params.get("year")
        if year is not None and not year.isdigit():
            raise ValidationError({"year": "must be a year such as 2026"})
        rows = [
            {**row, "owners": group.label}
            for group in selectors.realized(household, year=int(year) if year else None)
            for row in group.rows
        ]
        return Response(DisposalOut(rows, many=True).data)


class HouseholdRealizedTotals(APIView):
    """Realized gains and losses per owner group and tax year, with wash-sale amounts deferred and lost."""

    @extend_schema(responses=YearTotalsOut(many=True), tags=TAGS)
    def get(self, request, household_id: int):
        household = access_household(request.user, household_id)
        # The totals of selectors.realized (engine.totals per owner group) from GROUP BY rows, cached under the
        # ledger stamp: the same few queries whatever the history (docs/load.md, "Where the time goes").
        rows = [
            {"owners": group.label, "tax_year": year, **totals}
            for group in selectors.realized_totals(household)
            for year, totals in group.totals.items()
        ]
        return Response(YearTotalsOut(rows, many=True).data)


class ReconcileIn(serializers.Serializer):
    account = serializers.IntegerField(help_text="Our taxable account the broker report is for.")
    report = serializers.FileField(help_text="The broker's realized gain/loss CSV (generic or Schwab).")


class ReconcileRowOut(serializers.Serializer):
    status = serializers.CharField()
    ticker = serializers.CharField()
    date_sold = serializers.DateField()
    date_acquired = serializers.DateField(allow_null=True)
    engine_qty = serializers.DecimalField(max_digits=20, decimal_places=8)
    broker_qty = serializers.DecimalField(max_digits=20, decimal_places=8)
    broker_disallowed = serializers.DecimalField(max_digits=16, decimal_places=2)
    engine_disallowed = serializers.DecimalField(max_digits=16, decimal_places=2)
    additional_disallowed = serializers.DecimalField(max_digits=16, decimal_places=2)
    reasons = serializers.ListField(child=serializers.CharField())
    broker_lines = serializers.ListField(child=serializers.IntegerField())


class ReconcileOut(serializers.Serializer):
    account = serializers.IntegerField()
    format = serializers.CharField()
    additional_disallowed = serializers.DecimalField(max_digits=16, decimal_places=2)
    rows = ReconcileRowOut(many=True)


class HouseholdReconcile(APIView):
    """Compare a broker's realized gain/loss report with the household engine (nothing is stored)."""

    parser_classes = [MultiPartParser]
    token_may_write = True  # writes nothing: a read-only token may compare a report

    @extend_schema(request={"multipart/form-data": ReconcileIn}, responses=ReconcileOut, tags=TAGS)
    def post(self, request, household_id: int):
        from lots.reconciliation import UploadError, reconcile_upload

        household = access_household(request.user, household_id)
        data = ReconcileIn(data=request.data)
        data.is_valid(raise_exception=True)
        account = household.accounts.filter(pk=data.validated_data["account"]).first()
        if account is None:
            raise ValidationError({"account": "no such account in this household"})
        try:
            view = reconcile_upload(account=account, upload=data.validated_data["report"])
        except UploadError as exc:
            raise ValidationError({"report": str(exc)}) from None
        out = {
            "account": account.pk,
            "format": view.report.format,
            "additional_disallowed": view.result.additional_disallowed,
            "rows": view.result.rows,
        }
        return Response(ReconcileOut(out).data)


# ---- the reporting API: paginated lists with filters, projections, measures, calendar, Form 8949 CSV


class Pagination(LimitOffsetPagination):
    """?limit= (default 100, at most 1000) and ?offset=; the body is {count, next, previous, results}."""

    max_limit = 1000

    def paginate_rows(self, request, fetch) -> list:
        """paginate_queryset for a view that reads its page and the count together:
        fetch(limit, offset) -> (count, rows)."""
        self.request = request
        self.limit = self.get_limit(request)
        self.offset = self.get_offset(request)
        self.count, rows = fetch(self.limit, self.offset)
        return rows

    # DRF's links, built from one parse of the request's URL instead of four (the same URLs: the query's
    # parameters sorted, `limit` set, `offset` set or, on the way back to the start, dropped).

    def get_next_link(self):
        if self.offset + self.limit >= self.count:
            return None
        return self._link(self.offset + self.limit)

    def get_previous_link(self):
        if self.offset <= 0:
            return None
        return self._link(self.offset - self.limit if self.offset - self.limit > 0 else None)

    @functools.cached_property
    def _url_parts(self) -> tuple:
        """The request's URL split, and its query with `limit` set (a paginator serves one request)."""
        scheme, netloc, path, query, fragment = parse.urlsplit(self.request.build_absolute_uri())
        params = parse.parse_qs(query, keep_blank_values=True)
        params[self.limit_query_param] = [str(self.limit)]
        return (scheme, netloc, path, fragment), params

    def _link(self, offset: int | None) -> str:
        (scheme, netloc, path, fragment), params = self._url_parts
        params = {k: v for k, v in params.items() if k != self.offset_query_param}
        if offset is not None:
            params[self.offset_query_param] = [str(offset)]
        return parse.urlunsplit((scheme, netloc, path, parse.urlencode(sorted(params.items()), doseq=True), fragment))


class HouseholdScoped:
    """Filters of a household list: each names an owner or account of *this* household or is refused (400)."""

    pagination_class = Pagination
    filter_class: type[serializers.Serializer] | None = None

    def filters(self, household) -> dict:
        if self.filter_class is None:
            return {}
        data = self.filter_class(data=self.request.query_params)
        data.is_valid(raise_exception=True)
        values = {k: v for k, v in data.validated_data.items() if v not in (None, "")}
        if "account" in values and not household.accounts.filter(pk=values["account"]).exists():
            raise ValidationError({"account": ["not an account of this household"]})
        if "owner" in values and not household.owners.filter(pk=values["owner"]).exists():
            raise ValidationError({"owner": ["not an owner of this household"]})
        return values


def _account_filter(values: dict, prefix: str = "") -> Q:
    q = Q()
    if "account" in values:
        q &= Q(**{f"{prefix}account_id": values["account"]})
    if "owner" in values:
        q &= Q(**{f"{prefix}account__owners": values["owner"]})
    return q


def _household_accounts(household, values: dict) -> Q:
    """Rows of the household's accounts, of `values`' account and of the accounts its owner owns, each
    through a subquery on the account id (transactions and disposals): no join, so every row comes once
    and the list needs no DISTINCT (which made PostgreSQL sort every matching row on every column)."""
    q = Q(account_id__in=Account.objects.filter(household_id=household.pk).values("pk"))
    if "account" in values:
        q &= Q(account_id=values["account"])
    if "owner" in values:
        q &= Q(account_id__in=Account.owners.through.objects.filter(owner_id=values["owner"]).values("account_id"))
    return q


class YearField(serializers.IntegerField):
    def __init__(self, **kwargs):
        super().__init__(min_value=1900, max_value=2100, required=False, **kwargs)


class AccountOwnerFilter(serializers.Serializer):
    account = serializers.IntegerField(required=False, min_value=1, help_text="Only this account")
    owner = serializers.IntegerField(required=False, min_value=1, help_text="Only accounts this owner owns")


class OwnerFilter(serializers.Serializer):
    owner = serializers.IntegerField(required=False, min_value=1, help_text="Only accounts this owner owns")


# -- owners and accounts


@extend_schema(tags=TAGS)
class HouseholdOwners(HouseholdScoped, ListAPIView):
    """The household's owners (persons and trusts) with their taxpayer unit (wash-sale family)."""

    serializer_class = OwnerOut

    def get_queryset(self):
        household = access_household(self.request.user, self.kwargs["household_id"])
        return Owner.objects.filter(household=household).select_related("taxpayer_unit").order_by("name", "id")


@extend_schema(tags=TAGS, parameters=[OwnerFilter])
class HouseholdAccounts(HouseholdScoped, ListAPIView):
    """The household's accounts with their owners' ids; ?owner= keeps one owner's accounts."""

    serializer_class = AccountOut
    filter_class = OwnerFilter

    def get_queryset(self):
        household = access_household(self.request.user, self.kwargs["household_id"])
        values = self.filters(household)
        qs = Account.objects.filter(household=household).prefetch_related("owners").order_by("name", "id")
        if "owner" in values:
            qs = qs.filter(owners=values["owner"])
        return qs


# -- open lots (the hot path: one page of lots valued at the latest close, in plain SQL, without field objects)


class LotFilter(AccountOwnerFilter):
    ticker = serializers.CharField(required=False, max_length=12, help_text="Only this security")


def open_lots_out(rows: list[OpenLotRow], as_of: date) -> list[dict]:
    """LotOut's fields for a page of open lots, valued as lots.selectors.lots_valued values them and formatted
    as LotOut formats them (tests/reporting/test_api.py keeps them equal).

    DRF builds a field object per value; for a page of 100 lots that was most of the request's time. The
    row's decimals already have their column's places and a value in cents minus a basis in cents has two,
    so each is written as it is (`:f`, never in exponent form). A page has few securities and many lots
    bought the same day: their price and term are worked out once."""
    prices: dict[int, tuple] = {}
    terms: dict[date, str] = {}
    out = []
    for row in rows:
        close, start = row.close, row.holding_period_start
        if row.security_id not in prices:
            prices[row.security_id] = (f"{close:f}", row.price_date.isoformat()) if close is not None else (None, None)
        if start not in terms:
            terms[start] = holding_term(start, as_of)
        price, price_date = prices[row.security_id]
        if close is None:
            value = unrealized = None
        else:
            cents = selectors.lot_value(row.quantity, close)
            value, unrealized = f"{cents:f}", f"{cents - row.cost_basis:f}"
        out.append({
            "id": row.id,
            "account": row.account_id,
            "ticker": row.ticker,
            "quantity": f"{row.quantity:f}",
            "cost_basis": f"{row.cost_basis:f}",
            "wash_sale_adjustment": f"{row.wash_sale_adjustment:f}",
            "acquired_date": row.acquired_date.isoformat(),
            "holding_period_start": start.isoformat(),
            "origin_transaction": row.origin_id,
            "price": price,
            "price_date": price_date,
            "market_value": value,
            "unrealized": unrealized,
            "term": terms[start],
        })
    return out


@extend_schema(tags=TAGS, parameters=[LotFilter])
class HouseholdOpenLots(HouseholdScoped, ListAPIView):
    """Open lots, a page at a time in ledger order, each valued at the latest stored close with its term if
    sold today."""

    serializer_class = LotOut
    filter_class = LotFilter
    filter_names = frozenset(LotFilter().fields)

    def get_queryset(self):
        # list() reads through reporting.selectors; the browsable API asks for a queryset it does not evaluate.
        from lots.models import Lot

        return Lot.objects.none()

    def list(self, request, *args, **kwargs):
        household = access_household(request.user, self.kwargs["household_id"])
        # Most calls page through every lot: no filter to validate (a serializer costs a few hundred µs).
        values = self.filters(household) if self.filter_names.intersection(request.query_params) else {}

        filters = {"account_id": values.get("account"), "owner_id": values.get("owner"),
                   "ticker": values["ticker"].upper() if "ticker" in values else None}
        as_of = timezone.localdate()
        if connection.vendor == "postgresql" and request.accepted_renderer.format == "json":
            # The page arrives as JSON written by the database (reporting.selectors.open_lots_page_json);
            # the envelope is LimitOffsetPagination's, the same keys in the same order.
            lots = self.paginator.paginate_rows(
                request, lambda limit, offset: open_lots_page_json(household.pk, **filters, limit=limit,
                                                                   offset=offset, as_of=as_of))
            body = (f'{{"count":{self.paginator.count},"next":{json.dumps(self.paginator.get_next_link())},'
                    f'"previous":{json.dumps(self.paginator.get_previous_link())},"results":{lots}}}')
            return HttpResponse(body, content_type="application/json")
        rows = self.paginator.paginate_rows(
            request, lambda limit, offset: open_lots_page(household.pk, **filters, limit=limit, offset=offset))
        return self.get_paginated_response(open_lots_out(rows, as_of))


# -- transactions


class TransactionOut(serializers.Serializer):
    id = serializers.IntegerField()
    account = serializers.IntegerField(source="account_id")
    ticker = serializers.CharField(source="security.ticker")
    trade_date = serializers.DateField()
    seq = serializers.IntegerField()
    action = serializers.CharField()
    quantity = serializers.DecimalField(max_digits=20, decimal_places=8)
    price = serializers.DecimalField(max_digits=16, decimal_places=6)
    fees = serializers.DecimalField(max_digits=16, decimal_places=2)
    lot_selection = serializers.CharField(allow_blank=True)
    specific_lot = serializers.IntegerField(source="specific_lot_id", allow_null=True)
    acquired_date = serializers.DateField(allow_null=True)
    basis = serializers.DecimalField(max_digits=16, decimal_places=2, allow_null=True)
    custodian_txn_id = serializers.CharField(allow_blank=True)


class TransactionFilter(AccountOwnerFilter):
    year = YearField(help_text="Trade date in this calendar year")
    action = serializers.ChoiceField(
        choices=["buy", "sell", "reinvest", "transfer_in", "split"], required=False, help_text="Only this action"
    )
    ticker = serializers.CharField(required=False, max_length=12)


@extend_schema(tags=TAGS, parameters=[TransactionFilter])
class HouseholdTransactions(HouseholdScoped, ListAPIView):
    """Trades as the custodians recorded them, in execution order (trade date, then seq)."""

    serializer_class = TransactionOut
    filter_class = TransactionFilter

    def get_queryset(self):
        from lots.models import Transaction

        household = access_household(self.request.user, self.kwargs["household_id"])
        values = self.filters(household)
        qs = Transaction.objects.filter(_household_accounts(household, values))
        if "year" in values:
            qs = qs.filter(trade_date__gte=date(values["year"], 1, 1), trade_date__lt=date(values["year"] + 1, 1, 1))
        if "action" in values:
            qs = qs.filter(action=values["action"])
        if "ticker" in values:
            qs = qs.filter(security__ticker=values["ticker"].upper())
        # Index transaction_list_order (trade_date, seq, id) serves the year's range and this order.
        return qs.select_related("security").order_by("trade_date", "seq", "id")


# -- disposals and wash-sale adjustments


class DisposalRecordOut(serializers.Serializer):
    id = serializers.IntegerField()
    account = serializers.IntegerField(source="account_id")
    ticker = serializers.CharField(source="security.ticker")
    sale_transaction = serializers.IntegerField(source="sale_id")
    origin_transaction = serializers.IntegerField(source="origin_id")
    quantity = serializers.DecimalField(max_digits=20, decimal_places=8)
    date_acquired = serializers.DateField()
    holding_period_start = serializers.DateField(help_text="Form 8949 (b): tacked back after a wash sale")
    date_sold = serializers.DateField()
    proceeds = serializers.DecimalField(max_digits=16, decimal_places=2)
    cost_basis = serializers.DecimalField(max_digits=16, decimal_places=2)
    disallowed = serializers.DecimalField(max_digits=16, decimal_places=2, help_text="Form 8949 (g), code W")
    code = serializers.CharField(allow_blank=True)
    gain_loss = serializers.DecimalField(max_digits=16, decimal_places=2, help_text="Form 8949 (h)")
    term = serializers.CharField()
    tax_year = serializers.IntegerField()
    reportable = serializers.BooleanField(help_text="False for sales inside IRAs and workplace plans")
    wash_basis_adjustment = serializers.DecimalField(max_digits=16, decimal_places=2)


class DisposalFilter(AccountOwnerFilter):
    year = YearField(help_text="Tax year of the sale")
    term = serializers.ChoiceField(choices=["short", "long"], required=False)
    reportable = serializers.BooleanField(required=False, allow_null=True, default=None)


@extend_schema(tags=TAGS, parameters=[DisposalFilter])
class HouseholdDisposals(HouseholdScoped, ListAPIView):
    """Disposals (one lot or part relieved by one sale): the rows behind Form 8949 and the dashboard."""

    serializer_class = DisposalRecordOut
    filter_class = DisposalFilter

    def get_queryset(self):
        from lots.models import Disposal

        household = access_household(self.request.user, self.kwargs["household_id"])
        values = self.filters(household)
        qs = Disposal.objects.filter(_household_accounts(household, values))
        for field in ("term", "reportable"):
            if field in values:
                qs = qs.filter(**{field: values[field]})
        if "year" in values:
            qs = qs.filter(tax_year=values["year"])
        # Index disposal_year_list_order (tax_year, date_sold, sale, id) serves ?year= and this order.
        return qs.select_related("security").order_by("date_sold", "sale_id", "id")


class AdjustmentOut(serializers.Serializer):
    id = serializers.IntegerField()
    disposal = serializers.IntegerField(source="disposal_id")
    account = serializers.IntegerField(source="disposal.account_id")
    ticker = serializers.CharField(source="disposal.security.ticker")
    date_sold = serializers.DateField(source="disposal.date_sold")
    tax_year = serializers.IntegerField(source="disposal.tax_year")
    replacement_transaction = serializers.IntegerField(source="replacement_id")
    replacement_account = serializers.IntegerField(source="replacement_account_id")
    replacement_ticker = serializers.CharField(source="replacement.security.ticker")
    replacement_date = serializers.DateField(source="replacement.trade_date")
    quantity = serializers.DecimalField(max_digits=20, decimal_places=8)
    disallowed = serializers.DecimalField(max_digits=16, decimal_places=2)
    kind = serializers.CharField(help_text="deferred (in the replacement's basis) or permanent (IRA replacement)")
    identity_group = serializers.CharField(help_text="Why the two securities are substantially identical")


class AdjustmentFilter(AccountOwnerFilter):
    year = YearField(help_text="Tax year of the loss sale")
    kind = serializers.ChoiceField(choices=["deferred", "permanent"], required=False)


@extend_schema(tags=TAGS, parameters=[AdjustmentFilter])
class HouseholdWashSaleAdjustments(HouseholdScoped, ListAPIView):
    """Which loss went into which replacement shares, deferred or permanently lost (account = the loss's)."""

    serializer_class = AdjustmentOut
    filter_class = AdjustmentFilter

    def get_queryset(self):
        from lots.models import WashSaleAdjustment

        household = access_household(self.request.user, self.kwargs["household_id"])
        values = self.filters(household)
        qs = WashSaleAdjustment.objects.filter(disposal__account__household=household).filter(
            _account_filter(values, "disposal__")
        )
        if "year" in values:
            qs = qs.filter(disposal__tax_year=values["year"])
        if "kind" in values:
            qs = qs.filter(kind=values["kind"])
        return (
            qs.select_related("disposal__security", "replacement__security")
            .order_by("disposal__date_sold", "disposal_id", "id")
            .distinct()
        )


# -- proposals and approvals (the audit trail is harvester/approval_api.py: households/<id>/audit/)


class ExecutionOut(serializers.Serializer):
    method = serializers.CharField()
    trade_date = serializers.DateField()
    executed_at = serializers.DateTimeField()
    sell_transaction = serializers.IntegerField(source="sell_transaction_id", allow_null=True)
    buy_transaction = serializers.IntegerField(source="buy_transaction_id", allow_null=True)
    wash_window_ends = serializers.DateField()
    switch_back_on = serializers.DateField()


class ProposalRecordOut(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    status = serializers.CharField()
    version = serializers.IntegerField()
    account = serializers.IntegerField(source="account_id")
    sell_ticker = serializers.CharField(source="sell_security.ticker")
    buy_ticker = serializers.CharField(source="buy_security.ticker")
    sell_quantity = serializers.DecimalField(max_digits=20, decimal_places=8)
    price = serializers.DecimalField(max_digits=16, decimal_places=6)
    price_date = serializers.DateField()
    proceeds = serializers.DecimalField(max_digits=16, decimal_places=2)
    cost_basis = serializers.DecimalField(max_digits=16, decimal_places=2)
    loss_short_term = serializers.DecimalField(max_digits=16, decimal_places=2)
    loss_long_term = serializers.DecimalField(max_digits=16, decimal_places=2)
    tax_value = serializers.DecimalField(max_digits=16, decimal_places=2)
    trading_cost = serializers.DecimalField(max_digits=16, decimal_places=2)
    buy_amount = serializers.DecimalField(max_digits=16, decimal_places=2)
    lots = serializers.JSONField()
    checks = serializers.JSONField()
    required_actions = serializers.JSONField()
    explanation = serializers.JSONField()
    status_reason = serializers.CharField(allow_blank=True)
    expires_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    execution = serializers.SerializerMethodField()

    @extend_schema_field(ExecutionOut(allow_null=True))
    def get_execution(self, proposal) -> dict | None:
        execution = getattr(proposal, "execution", None)
        return ExecutionOut(execution).data if execution is not None else None


class ProposalFilter(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=["proposed", "awaiting_approval", "approved", "executed", "rejected", "expired", "invalidated",
                 "superseded"],
        required=False,
    )
    kind = serializers.ChoiceField(choices=["harvest", "switch_back"], required=False)
    account = serializers.IntegerField(required=False, min_value=1)
    year = YearField(help_text="Created in this calendar year (UTC)")


@extend_schema(tags=TAGS, parameters=[ProposalFilter])
class HouseholdProposals(HouseholdScoped, ListAPIView):
    """Harvest and switch-back proposals, newest first, with their execution when executed."""

    serializer_class = ProposalRecordOut
    filter_class = ProposalFilter

    def get_queryset(self):
        from harvester.models import HarvestProposal

        household = access_household(self.request.user, self.kwargs["household_id"])
        values = self.filters(household)
        qs = HarvestProposal.objects.filter(household=household)
        for field in ("status", "kind"):
            if field in values:
                qs = qs.filter(**{field: values[field]})
        if "account" in values:
            qs = qs.filter(account_id=values["account"])
        if "year" in values:
            qs = qs.filter(created_at__year=values["year"])
        return qs.select_related("sell_security", "buy_security", "execution").order_by("-created_at", "-id")


class ApprovalOut(serializers.Serializer):
    id = serializers.IntegerField()
    proposal = serializers.IntegerField(source="proposal_id")
    proposal_version = serializers.IntegerField()
    owner = serializers.IntegerField(source="owner_id", allow_null=True)
    user = serializers.CharField(source="user.username")
    by_discretion = serializers.BooleanField()
    decision = serializers.CharField()
    comment = serializers.CharField(allow_blank=True)
    at = serializers.DateTimeField()


class ApprovalFilter(serializers.Serializer):
    proposal = serializers.IntegerField(required=False, min_value=1)
    decision = serializers.ChoiceField(choices=["approve", "reject"], required=False)


@extend_schema(tags=TAGS, parameters=[ApprovalFilter])
class HouseholdApprovals(HouseholdScoped, ListAPIView):
    """Owners' (and trustees') decisions on proposals, each bound to the proposal version they saw."""

    serializer_class = ApprovalOut
    filter_class = ApprovalFilter

    def get_queryset(self):
        from harvester.models import Approval

        household = access_household(self.request.user, self.kwargs["household_id"])
        values = self.filters(household)
        qs = Approval.objects.filter(proposal__household=household)
        if "proposal" in values:
            qs = qs.filter(proposal_id=values["proposal"])
        if "decision" in values:
            qs = qs.filter(decision=values["decision"])
        return qs.select_related("user").order_by("-at", "-id")


# -- tax projections, dashboard measures, calendar


class BreakdownOut(serializers.Serializer):
    taxable_income = serializers.DecimalField(max_digits=16, decimal_places=2)
    net_short_term = serializers.DecimalField(max_digits=16, decimal_places=2)
    net_long_term = serializers.DecimalField(max_digits=16, decimal_places=2)
    capital_loss_deduction = serializers.DecimalField(max_digits=16, decimal_places=2)
    carryforward_st_next = serializers.DecimalField(max_digits=16, decimal_places=2)
    carryforward_lt_next = serializers.DecimalField(max_digits=16, decimal_places=2)
    income_tax = serializers.DecimalField(max_digits=16, decimal_places=2)
    income_tax_formula = serializers.DecimalField(max_digits=16, decimal_places=2)
    niit = serializers.DecimalField(max_digits=16, decimal_places=2)
    state_tax = serializers.DecimalField(max_digits=16, decimal_places=2)
    total = serializers.DecimalField(max_digits=16, decimal_places=2)
    total_formula = serializers.DecimalField(max_digits=16, decimal_places=2)
    method = serializers.CharField()
    method_note = serializers.CharField()


class ProjectionOut(serializers.Serializer):
    year = serializers.IntegerField()
    label = serializers.CharField()
    owners = serializers.ListField(source="owner_ids", child=serializers.IntegerField())
    filing_status = serializers.CharField(allow_null=True)
    available = serializers.BooleanField()
    note = serializers.CharField(allow_blank=True)
    realized_short = serializers.DecimalField(max_digits=16, decimal_places=2)
    realized_long = serializers.DecimalField(max_digits=16, decimal_places=2)
    harvested_short = serializers.DecimalField(max_digits=16, decimal_places=2)
    harvested_long = serializers.DecimalField(max_digits=16, decimal_places=2)
    outside_short = serializers.DecimalField(max_digits=16, decimal_places=2)
    outside_long = serializers.DecimalField(max_digits=16, decimal_places=2)
    carryforward_in_short = serializers.DecimalField(max_digits=16, decimal_places=2)
    carryforward_in_long = serializers.DecimalField(max_digits=16, decimal_places=2)
    before = BreakdownOut(allow_null=True, help_text="Without the losses of harvests executed this year")
    after = BreakdownOut(allow_null=True, help_text="With everything realized so far")
    effect = serializers.DecimalField(max_digits=16, decimal_places=2, allow_null=True,
                                      help_text="before.total_formula - after.total_formula")
    offset_limit = serializers.DecimalField(max_digits=16, decimal_places=2, allow_null=True)
    offset_used = serializers.DecimalField(max_digits=16, decimal_places=2, allow_null=True)
    offset_left = serializers.DecimalField(max_digits=16, decimal_places=2, allow_null=True)


class YearIn(serializers.Serializer):
    year = YearField(help_text="Tax year (default: this year)")


class ProjectionFilter(YearIn, OwnerFilter):
    pass


@extend_schema(tags=TAGS, parameters=[ProjectionFilter], responses=ProjectionOut(many=True))
class HouseholdTaxProjections(HouseholdScoped, APIView):
    """Each return's projected tax for a year, before and after the harvests executed so far (not paginated:
    one row per return). ?owner= keeps the return that owner is on."""

    pagination_class = None  # a short list: one row per return / year / event
    filter_class = ProjectionFilter

    def get(self, request, household_id: int):
        from harvester import dashboard

        household = access_household(request.user, household_id)
        values = self.filters(household)
        year = values.get("year") or timezone.localdate().year
        owner = household.owners.get(pk=values["owner"]) if "owner" in values else None
        data = dashboard.dashboard_data(
            dashboard.Scope.for_household(household, owner), as_of=timezone.localdate(), households=[household]
        )
        return Response(ProjectionOut(dashboard.projections(data, year), many=True).data)


class MeasureOut(serializers.Serializer):
    year = serializers.IntegerField()
    realized_short = serializers.DecimalField(source="realized.short", max_digits=16, decimal_places=2)
    realized_long = serializers.DecimalField(source="realized.long", max_digits=16, decimal_places=2)
    wash_sale_disallowed = serializers.DecimalField(source="realized.disallowed", max_digits=16, decimal_places=2)
    harvested = serializers.DecimalField(max_digits=16, decimal_places=2, help_text="Losses harvested, positive")
    tax_value = serializers.DecimalField(max_digits=16, decimal_places=2, allow_null=True)
    tax_value_note = serializers.CharField(allow_blank=True)
    cumulative_harvested = serializers.DecimalField(max_digits=16, decimal_places=2)
    cumulative_tax_value = serializers.DecimalField(max_digits=16, decimal_places=2)
    start_value = serializers.DecimalField(source="start_value.value", max_digits=16, decimal_places=2,
                                           allow_null=True, help_text="Taxable holdings on 1 January")
    harvesting_yield = serializers.DecimalField(max_digits=9, decimal_places=2, allow_null=True,
                                                help_text="Percent: harvested / start_value * 100")
    deferred = serializers.DecimalField(max_digits=16, decimal_places=2)
    permanent = serializers.DecimalField(max_digits=16, decimal_places=2)


class MeasuresOut(serializers.Serializer):
    harvest_source = serializers.ChoiceField(
        choices=["executions", "all_losses"],
        help_text="executions: losses of executed harvests; all_losses: no harvest executed, all realized losses",
    )
    years = MeasureOut(many=True)


@extend_schema(tags=TAGS, parameters=[OwnerFilter], responses=MeasuresOut)
class HouseholdMeasures(HouseholdScoped, APIView):
    """The dashboard's measures by year: realized, harvested and its tax value, wash-sale split, yield."""

    pagination_class = None  # a short list: one row per return / year / event
    filter_class = OwnerFilter

    def get(self, request, household_id: int):
        from harvester import dashboard

        household = access_household(request.user, household_id)
        values = self.filters(household)
        owner = household.owners.get(pk=values["owner"]) if "owner" in values else None
        data = dashboard.dashboard_data(
            dashboard.Scope.for_household(household, owner), as_of=timezone.localdate(), households=[household]
        )
        body = {"harvest_source": data.harvest_source, "years": dashboard.year_rows(data)}
        return Response(MeasuresOut(body).data)


class EventOut(serializers.Serializer):
    day = serializers.DateField()
    kind = serializers.ChoiceField(
        choices=["wash_window", "switch_back", "scheduled_purchase", "review", "year_end", "proposal_expiry"]
    )
    title = serializers.CharField()
    description = serializers.CharField()
    uid = serializers.CharField()


class CalendarIn(serializers.Serializer):
    start = serializers.DateField(required=False, help_text="Default: today")
    end = serializers.DateField(required=False, help_text="Default: start + 90 days; at most three years")

    def validate(self, attrs):
        from harvester.calendar import MAX_SPAN_DAYS

        start = attrs.get("start") or timezone.localdate()
        end = attrs.get("end") or start + timedelta(days=90)
        if end < start:
            raise ValidationError({"end": ["must not be before start"]})
        if (end - start).days > MAX_SPAN_DAYS:
            raise ValidationError({"end": [f"at most {MAX_SPAN_DAYS} days after start"]})
        return {"start": start, "end": end}


@extend_schema(tags=TAGS, parameters=[CalendarIn], responses=EventOut(many=True))
class HouseholdCalendar(HouseholdScoped, APIView):
    """The harvest calendar's events from start to end (the iCalendar feed has the same events)."""

    pagination_class = None  # a short list: one row per return / year / event
    filter_class = CalendarIn

    def get(self, request, household_id: int):
        from harvester.calendar import household_events

        household = access_household(request.user, household_id)
        values = self.filters(household)
        return Response(EventOut(household_events(household, values["start"], values["end"]), many=True).data)


@extend_schema(
    tags=TAGS,
    parameters=[OpenApiParameter("year", int, required=False, description="Tax year (default: the latest)")],
    responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="Form 8949 rows as CSV")},
)
class HouseholdForm8949Csv(APIView):
    """Form 8949 rows of one tax year as CSV (the same file as the realized page's download)."""

    def get(self, request, household_id: int):
        from harvester.csvsafe import csv_text
        from lots.engine.report import FORM8949_COLUMNS

        household = access_household(request.user, household_id)
        data = YearIn(data=request.query_params)
        data.is_valid(raise_exception=True)
        year = data.validated_data.get("year")
        if year is None:
            years = selectors.tax_years(household)
            year = years[0] if years else timezone.localdate().year
        rows = []
        for group in selectors.realized(household, year=year):
            rows.extend([group.label, *(r[c] for c in FORM8949_COLUMNS), r["account_name"]] for r in group.rows)
        response = HttpResponse(csv_text(["owners", *FORM8949_COLUMNS, "account_name"], rows),
                                content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="form8949-{household.pk}-{year}.csv"'
        return response


def _routes():
    from reporting import api as reporting_api
    from reporting.views import api_docs

    h = "households/<int:household_id>/"
    return [
        path("households/", HouseholdList.as_view(), name="api-households"),
        path(h, HouseholdDetail.as_view(), name="api-household"),
        path(h + "lots/", HouseholdLots.as_view(), name="api-household-lots"),
        path(h + "form8949/", HouseholdForm8949.as_view(), name="api-household-8949"),
        path(h + "realized/", HouseholdRealizedTotals.as_view(), name="api-household-realized"),
        path(h + "reconcile/", HouseholdReconcile.as_view(), name="api-household-reconcile"),
        path(h + "owners/", HouseholdOwners.as_view(), name="api-household-owners"),
        path(h + "accounts/", HouseholdAccounts.as_view(), name="api-household-accounts"),
        path(h + "open-lots/", HouseholdOpenLots.as_view(), name="api-household-open-lots"),
        path(h + "transactions/", HouseholdTransactions.as_view(), name="api-household-transactions"),
        path(h + "disposals/", HouseholdDisposals.as_view(), name="api-household-disposals"),
        path(h + "wash-sale-adjustments/", HouseholdWashSaleAdjustments.as_view(), name="api-household-wash"),
        path(h + "proposals/", HouseholdProposals.as_view(), name="api-household-proposals"),
        path(h + "approvals/", HouseholdApprovals.as_view(), name="api-household-approvals"),
        path(h + "tax-projections/", HouseholdTaxProjections.as_view(), name="api-household-projections"),
        path(h + "measures/", HouseholdMeasures.as_view(), name="api-household-measures"),
        path(h + "calendar/", HouseholdCalendar.as_view(), name="api-household-calendar"),
        path(h + "form8949.csv", HouseholdForm8949Csv.as_view(), name="api-household-8949-csv"),
        *reporting_api.urlpatterns,
        path("docs/", api_docs, name="api-docs"),
    ]


urlpatterns = _routes()
