"""The approval API (included under /api/): policy, inbox, proposals and their decisions, audit trail.

One APIView per operation, fetched through access_* helpers; decisions call the same services as the
pages. Invalid transitions answer 409 {"detail": reason, "status": ..., "version": ...}.
"""

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import path
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import Throttled, ValidationError
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.access import access_household
from harvester import approvals
from harvester.models import HarvestPolicy
from harvester.policy import (
    POLICY_FIELDS,
    PolicyConflict,
    policy_acknowledge,
    policy_acknowledgments,
    policy_in_force,
    policy_newest,
)

# ---- serializers


class PolicyOut(serializers.ModelSerializer):
    class Meta:
        model = HarvestPolicy
        fields = ["version", *POLICY_FIELDS, "change_note", "created_at"]


class AcknowledgmentOut(serializers.Serializer):
    owner_id = serializers.IntegerField()
    owner_name = serializers.CharField()
    acknowledged_by = serializers.CharField(allow_null=True)
    acknowledged_at = serializers.DateTimeField(allow_null=True)


class PolicyStateOut(serializers.Serializer):
    in_force = serializers.IntegerField(allow_null=True, help_text="Version in force (every owner acknowledged it).")
    newest = PolicyOut(allow_null=True)
    acknowledgments = AcknowledgmentOut(many=True, help_text="Of the newest version.")
    versions = PolicyOut(many=True)


class SeatOut(serializers.Serializer):
    owner = serializers.CharField(source="seat.owner_name")
    needed = serializers.IntegerField(source="seat.needed")
    approved_by = serializers.ListField(child=serializers.CharField())
    waiting_for = serializers.ListField(child=serializers.CharField())
    filled = serializers.BooleanField()


class ProposalOut(serializers.Serializer):
    id = serializers.IntegerField(source="proposal.id")
    household = serializers.IntegerField(source="proposal.household_id")
    account = serializers.IntegerField(source="proposal.account_id")
    account_name = serializers.CharField(source="proposal.account.name")
    kind = serializers.CharField(source="proposal.kind")
    status = serializers.CharField(source="proposal.status")
    status_reason = serializers.CharField(source="proposal.status_reason")
    version = serializers.IntegerField(source="proposal.version")
    sell_ticker = serializers.CharField(source="proposal.sell_security.ticker")
    buy_ticker = serializers.CharField(source="proposal.buy_security.ticker")
    sell_quantity = serializers.DecimalField(source="proposal.sell_quantity", max_digits=20, decimal_places=8)
    proceeds = serializers.DecimalField(source="proposal.proceeds", max_digits=16, decimal_places=2)
    loss_short_term = serializers.DecimalField(source="proposal.loss_short_term", max_digits=16, decimal_places=2)
    loss_long_term = serializers.DecimalField(source="proposal.loss_long_term", max_digits=16, decimal_places=2)
    tax_value = serializers.DecimalField(source="proposal.tax_value", max_digits=16, decimal_places=2)
    trading_cost = serializers.DecimalField(source="proposal.trading_cost", max_digits=16, decimal_places=2)
    buy_amount = serializers.DecimalField(source="proposal.buy_amount", max_digits=16, decimal_places=2)
    lots = serializers.JSONField(source="proposal.lots")
    checks = serializers.JSONField(source="proposal.checks")
    required_actions = serializers.JSONField(source="proposal.required_actions")
    explanation = serializers.JSONField(source="proposal.explanation")
    expires_at = serializers.DateTimeField(source="proposal.expires_at", allow_null=True)
    approval_rule = serializers.CharField(source="approvers.rule")
    approvers = SeatOut(source="seats", many=True)
    can_decide = serializers.BooleanField()


class DecisionIn(serializers.Serializer):
    version = serializers.IntegerField(min_value=1, help_text="The proposal version you decided on.")
    comment = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")
    password = serializers.CharField(
        required=False, allow_blank=True, default="", write_only=True,
        help_text="Your password: required unless this browser session confirmed it in the last 10 minutes.",
    )


class RejectIn(serializers.Serializer):
    version = serializers.IntegerField(min_value=1)
    reason = serializers.CharField(max_length=2000)


class CommentIn(serializers.Serializer):
    body = serializers.CharField(max_length=5000)


class CommentOut(serializers.Serializer):
    id = serializers.IntegerField()
    user = serializers.CharField(source="user.username")
    body = serializers.CharField()
    at = serializers.DateTimeField()


class AcknowledgeIn(serializers.Serializer):
    version = serializers.IntegerField(min_value=1)


class AuditEventOut(serializers.Serializer):
    id = serializers.IntegerField()
    at = serializers.DateTimeField()
    actor = serializers.CharField(source="actor.username", allow_null=True, default=None)
    ip = serializers.IPAddressField(allow_null=True)
    action = serializers.CharField()
    object_type = serializers.CharField()
    object_id = serializers.CharField()
    summary = serializers.CharField()
    before = serializers.JSONField(allow_null=True)
    after = serializers.JSONField(allow_null=True)


ConflictOut = inline_serializer(
    "ConflictOut",
    {
        "detail": serializers.CharField(),
        "code": serializers.CharField(),
        "status": serializers.CharField(),
        "version": serializers.IntegerField(),
    },
)


class ProposalScopedView(APIView):
    """An endpoint of one proposal: a stranger to its household gets 404 before any other refusal (the
    read-only-token rule included), as everywhere else."""

    def check_permissions(self, request):
        if request.user and request.user.is_authenticated:
            approvals.access_proposal(request.user, self.kwargs["proposal_id"])
        super().check_permissions(request)


def _conflict(exc: approvals.ProposalConflict) -> Response:
    p = exc.proposal
    body = {"detail": exc.reason, "code": "conflict"}
    if p is not None:
        body.update(status=p.status, version=p.version)
    return Response(body, status=status.HTTP_409_CONFLICT)


def _proposal_out(request, proposal_id: int) -> dict:
    view = approvals.proposal_views([approvals.proposals_queryset().get(pk=proposal_id)], request.user)[0]
    return ProposalOut(view).data


# ---- views


class HouseholdPolicy(APIView):
    """The household's policy: the version in force, the newest, its acknowledgments, every version."""

    @extend_schema(responses=PolicyStateOut)
    def get(self, request, household_id: int):
        household = access_household(request.user, household_id)
        return Response(_policy_state(household))


def _policy_state(household) -> dict:
    newest = policy_newest(household)
    in_force = policy_in_force(household)
    data = {
        "in_force": in_force.version if in_force else None,
        "newest": newest,
        "acknowledgments": [a.__dict__ for a in policy_acknowledgments(newest)] if newest else [],
        "versions": list(HarvestPolicy.objects.filter(household=household).order_by("-version")),
    }
    return PolicyStateOut(data).data


class PolicyAcknowledge(APIView):
    """Acknowledge the newest policy version for every owner you act for (yourself; trusts you are a trustee of)."""

    @extend_schema(request=AcknowledgeIn, responses={200: PolicyStateOut, 409: ConflictOut})
    def post(self, request, household_id: int):
        household = access_household(request.user, household_id)
        data = AcknowledgeIn(data=request.data)
        data.is_valid(raise_exception=True)
        policy = HarvestPolicy.objects.filter(household=household, version=data.validated_data["version"]).first()
        if policy is None:
            raise ValidationError({"version": "No such version."})
        try:
            policy_acknowledge(policy=policy, user=request.user, request=request)
        except PolicyConflict as exc:
            return Response({"detail": str(exc), "code": "conflict"}, status=status.HTTP_409_CONFLICT)
        return Response(_policy_state(household))


class Inbox(APIView):
    """Proposals waiting for the caller (and, for an advisor, the ones in progress in their households)."""

    @extend_schema(responses=ProposalOut(many=True))
    def get(self, request):
        views = approvals.proposal_views(approvals.inbox_proposals(request.user), request.user)
        return Response(ProposalOut(views, many=True).data)


class ProposalDetail(ProposalScopedView):
    """One proposal with its approvers and whether the caller may decide on it."""

    @extend_schema(responses=ProposalOut)
    def get(self, request, proposal_id: int):
        proposal = approvals.access_proposal(request.user, proposal_id)
        return Response(_proposal_out(request, proposal.pk))


class ProposalApprove(ProposalScopedView):
    """Approve the version you saw. Needs `password` unless the browser session confirmed it recently."""

    @extend_schema(request=DecisionIn, responses={200: ProposalOut, 409: ConflictOut})
    def post(self, request, proposal_id: int):
        proposal = approvals.access_proposal(request.user, proposal_id)
        data = DecisionIn(data=request.data)
        data.is_valid(raise_exception=True)
        approvals.check_can_decide(request.user, proposal)
        use_session = isinstance(request.successful_authenticator, SessionAuthentication)
        try:
            approvals.password_confirm(request, data.validated_data["password"], use_session=use_session)
        except approvals.PasswordLockedOut:
            raise Throttled(wait=settings.AXES_COOLOFF_TIME.total_seconds(), detail=(
                "Too many wrong passwords for this username from your address: password confirmations and "
                "logins are paused.")) from None
        try:
            approvals.proposal_approve(
                proposal=proposal,
                user=request.user,
                version=data.validated_data["version"],
                comment=data.validated_data["comment"],
                request=request,
            )
        except approvals.ProposalConflict as exc:
            return _conflict(exc)
        return Response(_proposal_out(request, proposal.pk))


class ProposalReject(ProposalScopedView):
    """Reject the version you saw, with a reason (until it is executed)."""

    @extend_schema(request=RejectIn, responses={200: ProposalOut, 409: ConflictOut})
    def post(self, request, proposal_id: int):
        proposal = approvals.access_proposal(request.user, proposal_id)
        data = RejectIn(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            approvals.proposal_reject(
                proposal=proposal,
                user=request.user,
                version=data.validated_data["version"],
                reason=data.validated_data["reason"],
                request=request,
            )
        except approvals.ProposalConflict as exc:
            return _conflict(exc)
        except DjangoValidationError as exc:
            raise ValidationError({"reason": exc.messages}) from None
        return Response(_proposal_out(request, proposal.pk))


class ProposalCommentCreate(ProposalScopedView):
    """Add to the proposal's discussion (its approvers and the advisor)."""

    @extend_schema(request=CommentIn, responses={201: CommentOut})
    def post(self, request, proposal_id: int):
        proposal = approvals.access_proposal(request.user, proposal_id)
        data = CommentIn(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            comment = approvals.proposal_comment(proposal=proposal, user=request.user, body=data.validated_data["body"])
        except DjangoValidationError as exc:
            raise ValidationError({"body": exc.messages}) from None
        return Response(CommentOut(comment).data, status=status.HTTP_201_CREATED)


class AuditList(APIView):
    """The household's audit trail, newest first (advisor and members). Dates are UTC days."""

    @extend_schema(
        parameters=[
            OpenApiParameter("action", str, required=False),
            OpenApiParameter("actor", int, required=False, description="User id"),
            OpenApiParameter("start", str, required=False, description="YYYY-MM-DD (UTC)"),
            OpenApiParameter("end", str, required=False, description="YYYY-MM-DD (UTC), inclusive"),
        ],
        responses=AuditEventOut(many=True),
    )
    def get(self, request, household_id: int):
        household = access_household(request.user, household_id)
        params = AuditQuery(data=request.query_params)
        params.is_valid(raise_exception=True)
        q = params.validated_data
        events = approvals.audit_events(
            household,
            role=household.viewer_role,
            filters=approvals.AuditFilter(q.get("action", ""), q.get("actor"), q.get("start"), q.get("end")),
        )
        paginator = LimitOffsetPagination()
        page = paginator.paginate_queryset(events, request, view=self)
        rows = AuditEventOut(page, many=True).data
        if household.viewer_role != "advisor":
            for row in rows:
                row["ip"] = None
        return paginator.get_paginated_response(rows)


class AuditQuery(serializers.Serializer):
    action = serializers.CharField(required=False, allow_blank=True, max_length=60)
    actor = serializers.IntegerField(required=False, min_value=1)
    start = serializers.DateField(required=False)
    end = serializers.DateField(required=False)


class FillsIn(serializers.Serializer):
    paper = serializers.BooleanField(default=False, help_text="Demo only: execute at the last stored prices.")
    trade_date = serializers.DateField(required=False)
    sell_price = serializers.DecimalField(max_digits=16, decimal_places=6, min_value=0, required=False)
    sell_quantity = serializers.DecimalField(max_digits=20, decimal_places=8, min_value=0, required=False)
    buy_price = serializers.DecimalField(max_digits=16, decimal_places=6, min_value=0, required=False)
    buy_quantity = serializers.DecimalField(max_digits=20, decimal_places=8, min_value=0, required=False)
    sell_fees = serializers.DecimalField(max_digits=16, decimal_places=2, min_value=0, default=0)
    buy_fees = serializers.DecimalField(max_digits=16, decimal_places=2, min_value=0, default=0)

    def validate(self, attrs):
        if not attrs["paper"]:
            missing = [k for k in ("trade_date", "sell_price", "sell_quantity", "buy_price", "buy_quantity") if k not in attrs]
            if missing:
                raise ValidationError({k: "Required unless paper is true." for k in missing})
        return attrs


class ProposalExecute(ProposalScopedView):
    """Record the execution of an approved proposal (advisor): the fills, or paper at the last price (demo)."""

    @extend_schema(request=FillsIn, responses={200: ProposalOut, 409: ConflictOut})
    def post(self, request, proposal_id: int):
        proposal = approvals.access_proposal(request.user, proposal_id, manage=True)
        data = FillsIn(data=request.data)
        data.is_valid(raise_exception=True)
        d = data.validated_data
        fills = None
        if d["paper"]:
            if not approvals.paper_execution_enabled():
                raise ValidationError({"paper": "Paper execution is for the demo only."})
        else:
            fills = approvals.Fills(
                trade_date=d["trade_date"], sell_price=d["sell_price"], sell_quantity=d["sell_quantity"],
                buy_price=d["buy_price"], buy_quantity=d["buy_quantity"], sell_fees=d["sell_fees"],
                buy_fees=d["buy_fees"],
            )
            if fills.trade_date > timezone.localdate():
                raise ValidationError({"trade_date": "Cannot be in the future."})
        try:
            approvals.proposal_execute(proposal=proposal, user=request.user, fills=fills, request=request)
        except approvals.ProposalConflict as exc:
            return _conflict(exc)
        except DjangoValidationError as exc:
            raise ValidationError(exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}) from None
        return Response(_proposal_out(request, proposal.pk))


urlpatterns = [
    path("households/<int:household_id>/policy/", HouseholdPolicy.as_view(), name="api-policy"),
    path("households/<int:household_id>/policy/acknowledge/", PolicyAcknowledge.as_view(), name="api-policy-acknowledge"),
    path("households/<int:household_id>/audit/", AuditList.as_view(), name="api-audit"),
    path("inbox/", Inbox.as_view(), name="api-inbox"),
    path("proposals/<int:proposal_id>/", ProposalDetail.as_view(), name="api-proposal"),
    path("proposals/<int:proposal_id>/approve/", ProposalApprove.as_view(), name="api-proposal-approve"),
    path("proposals/<int:proposal_id>/reject/", ProposalReject.as_view(), name="api-proposal-reject"),
    path("proposals/<int:proposal_id>/comment/", ProposalCommentCreate.as_view(), name="api-proposal-comment"),
    path("proposals/<int:proposal_id>/execute/", ProposalExecute.as_view(), name="api-proposal-execute"),
]
