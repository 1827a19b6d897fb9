"""The onboarding API (under /api/): imports (preview, commit), prices, scheduled purchases.

One view class per operation with small input and output serializers; every household object is fetched
through access_household, and writes (and imports, which expose the household's trades) need the
advisor role (manage=True: 404 for strangers, 403 for other roles).
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import path
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.access import access_household
from lots import imports
from lots.importers import FORMAT_CHOICES, ImportFileError
from lots.imports import ImportOptions, ImportRefused, ScheduledPurchaseMissing
from lots.models import ImportBatch, ScheduledPurchase, Security
from lots.prices import price_statuses, prices_import_file, stale_trading_days


def _account(household, account_id):
    account = household.accounts.filter(pk=account_id).first()
    if account is None:
        raise ValidationError({"account": "no such account in this household"})
    return account


# ---- imports ----------------------------------------------------------------------------------------------
class ImportBatchOut(serializers.Serializer):
    id = serializers.IntegerField()
    account = serializers.IntegerField(source="account_id")
    file_name = serializers.CharField()
    sha256 = serializers.CharField()
    format = serializers.CharField()
    status = serializers.CharField()
    options = serializers.JSONField()
    summary = serializers.JSONField(help_text="rows_read, transactions, lots, sells, duplicates, skipped (by reason), "
                                              "unknown_tickers, warnings, notes, errors, history_complete_from, sample")
    created_at = serializers.DateTimeField()
    committed_at = serializers.DateTimeField(allow_null=True)


class ImportList(APIView):
    """The household's imports, newest first (advisor only)."""

    @extend_schema(responses=ImportBatchOut(many=True))
    def get(self, request, household_id: int):
        household = access_household(request.user, household_id, manage=True)
        batches = imports.import_batches(household).defer(None)[:100]
        return Response(ImportBatchOut(batches, many=True).data)


class ImportPreview(APIView):
    """Upload a custodian export for one account and get its preview; nothing is imported until commit."""

    parser_classes = [MultiPartParser, FormParser]

    class ImportPreviewIn(serializers.Serializer):
        account = serializers.IntegerField()
        file = serializers.FileField()
        format = serializers.ChoiceField(choices=FORMAT_CHOICES, default="auto")
        source_account = serializers.CharField(required=False, allow_blank=True, default="")
        as_of = serializers.DateField(required=False, allow_null=True, default=None)
        new_securities = serializers.JSONField(required=False, default=dict,
                                               help_text='{"TICKER": "asset_class_code"}: create these securities')

    @extend_schema(request={"multipart/form-data": ImportPreviewIn}, responses={201: ImportBatchOut})
    def post(self, request, household_id: int):
        household = access_household(request.user, household_id, manage=True)
        data = _valid(self.ImportPreviewIn, request.data)
        account = _account(household, data["account"])
        new = data["new_securities"]
        if not isinstance(new, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in new.items()):
            raise ValidationError({"new_securities": 'an object such as {"NVDA": "us_large_cap"}'})
        try:
            text = imports.read_upload(data["file"])
        except ImportFileError as exc:
            raise ValidationError({"file": [p.text() for p in exc.problems]}) from None
        options = ImportOptions(format=data["format"], source_account=data["source_account"].strip(),
                                as_of=data["as_of"], new_securities={k.upper(): v for k, v in new.items()})
        batch = imports.import_preview(account=account, text=text, file_name=data["file"].name, actor=request.user,
                                       options=options)
        return Response(ImportBatchOut(batch).data, status=status.HTTP_201_CREATED)


class ImportDetail(APIView):
    @extend_schema(responses=ImportBatchOut)
    def get(self, request, household_id: int, batch_id: int):
        household = access_household(request.user, household_id, manage=True)
        batch = imports.import_batches(household).defer(None).filter(pk=batch_id).first()
        if batch is None:
            raise NotFound("No such import")
        return Response(ImportBatchOut(batch).data)


class ImportRepreview(APIView):
    """Preview a kept upload again with other options or into another account."""

    parser_classes = [JSONParser, FormParser, MultiPartParser]

    class ImportRepreviewIn(serializers.Serializer):
        account = serializers.IntegerField(required=False)
        source_account = serializers.CharField(required=False, allow_blank=True, default="")
        as_of = serializers.DateField(required=False, allow_null=True, default=None)
        new_securities = serializers.DictField(child=serializers.CharField(), required=False, default=dict)

    @extend_schema(request=ImportRepreviewIn, responses=ImportBatchOut)
    def post(self, request, household_id: int, batch_id: int):
        household = access_household(request.user, household_id, manage=True)
        data = _valid(self.ImportRepreviewIn, request.data)
        account = _account(household, data["account"]) if data.get("account") else None
        kept = ImportBatch.objects.filter(household=household, pk=batch_id).values_list("options", flat=True).first()
        if kept is None:
            raise NotFound("No such import")
        options = ImportOptions(format=kept.get("format") or "auto",
                                source_account=data["source_account"].strip(), as_of=data["as_of"],
                                new_securities={k.upper(): v for k, v in data["new_securities"].items()})
        try:
            batch = imports.import_repreview(household=household, batch_id=batch_id, actor=request.user,
                                             options=options, account=account)
        except ImportRefused as exc:
            raise ValidationError({"detail": str(exc)}) from None
        return Response(ImportBatchOut(batch).data)


class ImportCommit(APIView):
    """Import exactly what the preview showed. Send the upload's sha256 from the preview."""

    parser_classes = [JSONParser, FormParser, MultiPartParser]

    class ImportCommitIn(serializers.Serializer):
        sha256 = serializers.CharField(max_length=64)

    class ImportCommitOut(serializers.Serializer):
        batch = ImportBatchOut()
        transactions = serializers.IntegerField()
        lots = serializers.IntegerField()
        duplicates = serializers.IntegerField()
        securities_created = serializers.ListField(child=serializers.CharField())
        history_complete_from = serializers.DateField(allow_null=True)

    @extend_schema(request=ImportCommitIn, responses=ImportCommitOut)
    def post(self, request, household_id: int, batch_id: int):
        household = access_household(request.user, household_id, manage=True)
        data = _valid(self.ImportCommitIn, request.data)
        try:
            result = imports.import_commit(household=household, batch_id=batch_id, sha256=data["sha256"],
                                           actor=request.user, request=request)
        except ImportRefused as exc:
            if str(exc) == "No such import.":
                raise NotFound(str(exc)) from None
            raise ValidationError({"detail": str(exc)}) from None
        return Response(self.ImportCommitOut(result).data)


# ---- prices -----------------------------------------------------------------------------------------------
class PriceStatusOut(serializers.Serializer):
    ticker = serializers.CharField()
    close = serializers.DecimalField(max_digits=16, decimal_places=6, allow_null=True)
    date = serializers.DateField(allow_null=True)
    source = serializers.CharField()
    stale = serializers.BooleanField()
    message = serializers.CharField(allow_null=True)


class PriceList(APIView):
    """The latest close of each security the household trades, and whether it is stale."""

    @extend_schema(responses=PriceStatusOut(many=True))
    def get(self, request, household_id: int):
        household = access_household(request.user, household_id)
        ids = set(Security.objects.filter(transactions__account__household=household).values_list("id", flat=True))
        rows = price_statuses(ids, as_of=timezone.localdate())
        return Response(PriceStatusOut([{**s.__dict__, "stale": s.message is not None} for s in rows], many=True).data)


class PriceImport(APIView):
    """Upload daily closes (date,ticker,close; Yahoo or Stooq downloads). Advisor only."""

    parser_classes = [MultiPartParser, FormParser]

    class PriceImportIn(serializers.Serializer):
        file = serializers.FileField()
        ticker = serializers.CharField(required=False, allow_blank=True, default="", max_length=12)

    class PriceImportOut(serializers.Serializer):
        source = serializers.CharField()
        created = serializers.IntegerField()
        updated = serializers.IntegerField()
        unchanged = serializers.IntegerField()
        skipped_rows = serializers.IntegerField()
        unknown_tickers = serializers.DictField(child=serializers.IntegerField())
        first_date = serializers.DateField(allow_null=True)
        last_date = serializers.DateField(allow_null=True)
        stale_after_trading_days = serializers.IntegerField()

    @extend_schema(request={"multipart/form-data": PriceImportIn}, responses=PriceImportOut)
    def post(self, request, household_id: int):
        household = access_household(request.user, household_id, manage=True)
        data = _valid(self.PriceImportIn, request.data)
        try:
            text = imports.read_upload(data["file"])
            result = prices_import_file(text=text, name=data["file"].name, actor=request.user, household=household,
                                        ticker=data["ticker"] or None, request=request)
        except ImportFileError as exc:
            raise ValidationError({"file": [p.text() for p in exc.problems]}) from None
        return Response(self.PriceImportOut({**result.__dict__, "stale_after_trading_days": stale_trading_days()}).data)


# ---- scheduled purchases ----------------------------------------------------------------------------------
class ScheduledPurchaseOut(serializers.Serializer):
    id = serializers.IntegerField(source="purchase.id")
    account = serializers.IntegerField(source="purchase.account_id")
    ticker = serializers.CharField(source="purchase.security.ticker")
    kind = serializers.CharField(source="purchase.kind")
    frequency = serializers.CharField(source="purchase.frequency")
    amount = serializers.DecimalField(source="purchase.amount", max_digits=16, decimal_places=2, allow_null=True)
    start_date = serializers.DateField(source="purchase.start_date")
    end_date = serializers.DateField(source="purchase.end_date", allow_null=True)
    paused_until = serializers.DateField(source="purchase.paused_until", allow_null=True)
    active = serializers.BooleanField(source="purchase.active")
    dates_next_30_days = serializers.ListField(source="in_window", child=serializers.DateField())
    next_dates = serializers.ListField(source="upcoming", child=serializers.DateField())


class ScheduledPurchaseIn(serializers.Serializer):
    account = serializers.IntegerField()
    ticker = serializers.CharField(max_length=12)
    kind = serializers.ChoiceField(choices=ScheduledPurchase.Kind.choices)
    frequency = serializers.ChoiceField(choices=ScheduledPurchase.Frequency.choices)
    amount = serializers.DecimalField(max_digits=16, decimal_places=2, required=False, allow_null=True, default=None,
                                      min_value=0)
    start_date = serializers.DateField()
    end_date = serializers.DateField(required=False, allow_null=True, default=None)
    paused_until = serializers.DateField(required=False, allow_null=True, default=None)
    active = serializers.BooleanField(required=False, default=True)


def _security(ticker: str) -> Security:
    security = Security.objects.filter(ticker=ticker.upper()).first()
    if security is None:
        raise ValidationError({"ticker": f"unknown ticker {ticker!r}"})
    return security


def _valid(serializer_class, data, partial: bool = False) -> dict:
    serializer = serializer_class(data=data, partial=partial)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _scheduled_view(household, purchase_id):
    as_of = timezone.localdate()
    for view in imports.scheduled_with_dates(household, as_of=as_of):
        if view.purchase.pk == purchase_id:
            return view
    raise NotFound("No such scheduled purchase")


class ScheduledPurchaseList(APIView):
    """Scheduled purchases with their dates in the next 30 days and their next three dates."""

    @extend_schema(responses=ScheduledPurchaseOut(many=True))
    def get(self, request, household_id: int):
        household = access_household(request.user, household_id)
        views = imports.scheduled_with_dates(household, as_of=timezone.localdate())
        return Response(ScheduledPurchaseOut(views, many=True).data)


class ScheduledPurchaseCreate(APIView):
    @extend_schema(request=ScheduledPurchaseIn, responses={201: ScheduledPurchaseOut})
    def post(self, request, household_id: int):
        household = access_household(request.user, household_id, manage=True)
        data = dict(_valid(ScheduledPurchaseIn, request.data))
        data["account"] = _account(household, data["account"])
        data["security"] = _security(data.pop("ticker"))
        try:
            purchase = imports.scheduled_purchase_create(household=household, actor=request.user, request=request,
                                                         **data)
        except ImportRefused as exc:
            raise ValidationError({"detail": str(exc)}) from None
        except DjangoValidationError as exc:  # the model's own checks (full_clean)
            raise ValidationError(exc.message_dict) from None
        return Response(ScheduledPurchaseOut(_scheduled_view(household, purchase.pk)).data,
                        status=status.HTTP_201_CREATED)


class ScheduledPurchaseUpdate(APIView):
    """Change some fields of a scheduled purchase (e.g. paused_until to pause a DRIP). POST or PATCH."""

    @extend_schema(request=ScheduledPurchaseIn(partial=True), responses=ScheduledPurchaseOut)
    def post(self, request, household_id: int, purchase_id: int):
        household = access_household(request.user, household_id, manage=True)
        data = {k: v for k, v in _valid(ScheduledPurchaseIn, request.data, partial=True).items()
                if k in request.data}
        if "account" in data:
            data["account"] = _account(household, data["account"])
        if "ticker" in data:
            data["security"] = _security(data.pop("ticker"))
        try:
            imports.scheduled_purchase_update(household=household, purchase_id=purchase_id, actor=request.user,
                                              request=request, **data)
        except ScheduledPurchaseMissing:
            raise NotFound("No such scheduled purchase") from None
        except ImportRefused as exc:
            raise ValidationError({"detail": str(exc)}) from None
        except DjangoValidationError as exc:
            raise ValidationError(exc.message_dict) from None
        return Response(ScheduledPurchaseOut(_scheduled_view(household, purchase_id)).data)

    patch = post


class ScheduledPurchaseDelete(APIView):
    """Remove a scheduled purchase. POST or DELETE."""

    @extend_schema(request=None, responses={204: None})
    def post(self, request, household_id: int, purchase_id: int):
        household = access_household(request.user, household_id, manage=True)
        try:
            imports.scheduled_purchase_delete(household=household, purchase_id=purchase_id, actor=request.user,
                                              request=request)
        except ScheduledPurchaseMissing:
            raise NotFound("No such scheduled purchase") from None
        return Response(status=status.HTTP_204_NO_CONTENT)

    delete = post


H = "households/<int:household_id>"
urlpatterns = [
    path(f"{H}/imports/", ImportList.as_view(), name="api-imports"),
    path(f"{H}/imports/preview/", ImportPreview.as_view(), name="api-import-preview"),
    path(f"{H}/imports/<int:batch_id>/", ImportDetail.as_view(), name="api-import"),
    path(f"{H}/imports/<int:batch_id>/repreview/", ImportRepreview.as_view(), name="api-import-repreview"),
    path(f"{H}/imports/<int:batch_id>/commit/", ImportCommit.as_view(), name="api-import-commit"),
    path(f"{H}/prices/", PriceList.as_view(), name="api-prices"),
    path(f"{H}/prices/import/", PriceImport.as_view(), name="api-price-import"),
    path(f"{H}/scheduled-purchases/", ScheduledPurchaseList.as_view(), name="api-scheduled"),
    path(f"{H}/scheduled-purchases/create/", ScheduledPurchaseCreate.as_view(), name="api-scheduled-create"),
    path(f"{H}/scheduled-purchases/<int:purchase_id>/update/", ScheduledPurchaseUpdate.as_view(),
         name="api-scheduled-update"),
    path(f"{H}/scheduled-purchases/<int:purchase_id>/delete/", ScheduledPurchaseDelete.as_view(),
         name="api-scheduled-delete"),
]
