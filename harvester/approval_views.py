"""Pages of the approval flow: inbox, proposal, decisions, execution, policy, audit trail, calendar.

Each view parses input, fetches through an access_* helper, calls one service and renders. Decisions
answer htmx with the proposal's card (templates/harvester/inbox.html#card), including for 403/409.
"""

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import prefetch_related_objects
from django.forms.models import model_to_dict
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.access import access_household
from accounts.lockout import lockout_response
from accounts.models import Membership
from harvester import approvals, notifications
from harvester.calendar import household_events
from harvester.csvsafe import csv_text
from harvester.forms import AuditFilterForm, CommentForm, DecisionForm, FillsForm, PolicyForm, RejectForm
from harvester.models import AuditEvent, HarvestPolicy, HarvestProposal, Notification
from harvester.policy import (
    POLICY_FIELDS,
    PolicyConflict,
    household_account_approvers,
    policy_acknowledge,
    policy_acknowledgments,
    policy_create_version,
    policy_history,
    policy_in_force,
    policy_newest,
)

AUDIT_PAGE_ROWS = 500


def _error_text(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(exc) or "You cannot do that."


# ---- inbox and proposals


def _card_context(request, proposal, *, current=None, **extra) -> dict:
    """The card of `proposal` (fetched by access_proposal: its viewer_role is the caller's role), read
    again, unless `current` is the proposal as it stands now (e.g. as a decision left it, committed):
    then that instance gets what the card reads (owners, approvals, comments) without reading it again."""
    if current is None:
        p = approvals.proposals_queryset().get(pk=proposal.pk)
    else:
        p = current
        prefetch_related_objects([p], *approvals.proposal_prefetches())
    view = approvals.proposal_views(
        [p], request.user, detail=not request.htmx, roles={proposal.household_id: proposal.viewer_role}
    )[0]
    return {
        "v": view,
        "needs_password": not approvals.password_recently_confirmed(request),
        "paper_enabled": approvals.paper_execution_enabled(),
        **extra,
    }


def _decision_response(request, proposal, *, status: int = 200, error: str = "", message: str = "", current=None):
    """The card (htmx) or the proposal page; on success without htmx, redirect (POST-redirect-GET).
    `current`: the proposal as the decision left it (see _card_context)."""
    if not request.htmx and status == 200:
        messages.success(request, message)
        return redirect("proposal", proposal_id=proposal.pk)
    context = _card_context(request, proposal, current=current, error=error, message=message)
    if request.htmx:
        return render(request, "harvester/inbox.html#card", context, status=status)
    return render(request, "harvester/inbox_proposal.html", context, status=status)


def _run_decision(request, proposal, action, success: str):
    """Run `action`; answer with the card. When `action` returns the proposal as it left it (committed),
    the card is made from that instance instead of reading the proposal again."""
    try:
        current = action()
    except approvals.PasswordLockedOut:
        return lockout_response(request)  # signs the session out, 429
    except approvals.ProposalConflict as exc:
        return _decision_response(request, proposal, status=409, error=exc.reason)
    except PermissionDenied as exc:
        return _decision_response(request, proposal, status=403, error=_error_text(exc))
    except ValidationError as exc:
        return _decision_response(request, proposal, status=400, error=_error_text(exc))
    return _decision_response(request, proposal, message=success,
                              current=current if isinstance(current, HarvestProposal) else None)


@login_required
def inbox(request):
    views = approvals.proposal_views(approvals.inbox_proposals(request.user), request.user)
    context = {
        "waiting": [v for v in views if v.can_decide],
        "others": [v for v in views if not v.can_decide],
        "notes": list(notifications.unread(request.user)[:50]),
        "needs_password": not approvals.password_recently_confirmed(request),
        "paper_enabled": approvals.paper_execution_enabled(),
    }
    if request.htmx and request.htmx.target == "inbox-list":
        return render(request, "harvester/inbox.html#list", context)
    return render(request, "harvester/inbox.html", context)


@login_required
@require_POST
def inbox_mark_read(request):
    Notification.objects.filter(user=request.user, read_at__isnull=True).update(read_at=timezone.now())
    return redirect("inbox")


@login_required
def proposal_detail(request, proposal_id):
    proposal = approvals.access_proposal(request.user, proposal_id)
    Notification.objects.filter(user=request.user, proposal=proposal, read_at__isnull=True).update(
        read_at=timezone.now()
    )
    context = _card_context(request, proposal, current=proposal)
    context["execution"] = getattr(proposal, "execution", None) if proposal.status == "executed" else None
    return render(request, "harvester/inbox_proposal.html", context)


@login_required
@require_POST
def proposal_approve(request, proposal_id):
    proposal = approvals.access_proposal(request.user, proposal_id)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        return _decision_response(request, proposal, status=400, error="Say which version you approve.")

    def act():
        if not approvals.password_recently_confirmed(request):
            # 403 before asking for a password. (With a fresh confirmation no password is asked: the
            # service's own check, under the row lock, answers the same 403.)
            approvals.check_can_decide(request.user, proposal, role=proposal.viewer_role)
        approvals.password_confirm(request, form.cleaned_data["password"])
        return approvals.proposal_approve(
            proposal=proposal,
            user=request.user,
            version=form.cleaned_data["version"],
            comment=form.cleaned_data["comment"],
            request=request,
        )

    return _run_decision(request, proposal, act, f"You approved version {form.cleaned_data['version']}.")


@login_required
@require_POST
def proposal_reject(request, proposal_id):
    proposal = approvals.access_proposal(request.user, proposal_id)
    form = RejectForm(request.POST)
    if not form.is_valid():
        return _decision_response(request, proposal, status=400, error="Say why you reject it.")
    return _run_decision(
        request,
        proposal,
        lambda: approvals.proposal_reject(
            proposal=proposal,
            user=request.user,
            version=form.cleaned_data["version"],
            reason=form.cleaned_data["reason"],
            request=request,
        ),
        "You rejected the proposal.",
    )


@login_required
@require_POST
def proposal_comment(request, proposal_id):
    proposal = approvals.access_proposal(request.user, proposal_id)
    form = CommentForm(request.POST)
    if not form.is_valid():
        return _decision_response(request, proposal, status=400, error="Write a comment first.")
    return _run_decision(
        request,
        proposal,
        lambda: approvals.proposal_comment(proposal=proposal, user=request.user, body=form.cleaned_data["body"]),
        "Comment added.",
    )


# ---- execution


def _fills_initial(proposal) -> dict:
    try:
        paper = approvals.paper_fills(proposal, today=timezone.localdate())
    except ValidationError:
        return {"trade_date": timezone.localdate(), "sell_quantity": proposal.sell_quantity, "sell_price": proposal.price}
    return {**paper.__dict__}


@login_required
def proposal_execute(request, proposal_id):
    """Record the fills of an approved proposal (advisor), or paper-execute it at the last price (demo)."""
    proposal = approvals.access_proposal(request.user, proposal_id, manage=True)
    form = FillsForm(request.POST or None, initial=_fills_initial(proposal))
    error, status = "", 200
    if request.method == "POST":
        paper = "paper" in request.POST
        if paper and not approvals.paper_execution_enabled():
            raise PermissionDenied("Paper execution is for the demo only.")
        if paper or form.is_valid():
            fills = None
            if not paper:
                data = form.cleaned_data
                fills = approvals.Fills(
                    **{k: data[k] for k in ("trade_date", "sell_price", "sell_quantity", "buy_price", "buy_quantity")},
                    sell_fees=data["sell_fees"] or 0,
                    buy_fees=data["buy_fees"] or 0,
                )
            try:
                execution = approvals.proposal_execute(proposal=proposal, user=request.user, fills=fills, request=request)
            except approvals.ProposalConflict as exc:
                error, status = exc.reason, 409
            except ValidationError as exc:
                error, status = _error_text(exc), 400
            else:
                messages.success(
                    request,
                    f"Executed on {execution.trade_date:%Y-%m-%d}. The ledger is being recomputed: the realized loss "
                    "and the replacement lot appear in a moment.",
                )
                return redirect("proposal", proposal_id=proposal.pk)
        else:
            status = 400
    context = _card_context(request, proposal, error=error)
    context.update({"form": form, "proposal": proposal})
    return render(request, "harvester/execute.html", context, status=status)


@login_required
def household_execution(request, household_id):
    """The advisor's desk: approved proposals to place (order ticket), and recent executions."""
    household = access_household(request.user, household_id, manage=True)
    approved = approvals.proposal_views(
        approvals.proposals_queryset().filter(household=household, status=HarvestProposal.Status.APPROVED), request.user
    )
    executed = (
        HarvestProposal.objects.filter(household=household, status=HarvestProposal.Status.EXECUTED)
        .select_related("execution", "account", "sell_security", "buy_security")
        .order_by("-execution__trade_date", "-id")[:50]
    )
    context = {"household": household, "approved": approved, "executed": executed, "paper_enabled": approvals.paper_execution_enabled()}
    return render(request, "harvester/execute_desk.html", context)


@login_required
def order_ticket_csv(request, household_id):
    household = access_household(request.user, household_id, manage=True)
    body = csv_text(approvals.ORDER_TICKET_HEADER, approvals.order_ticket_rows(household))
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="order-ticket-{household.pk}-{stamp}.csv"'
    return response


@login_required
def household_calendar(request, household_id):
    household = access_household(request.user, household_id)
    today = timezone.localdate()
    events = household_events(household, today - timedelta(days=60), today + timedelta(days=400))
    # Upcoming first, then the last 60 days, most recent first.
    entries = [e for e in events if e.day >= today] + [e for e in reversed(events) if e.day < today]
    return render(request, "harvester/calendar.html", {"household": household, "entries": entries, "today": today})


# ---- policy


@login_required
def policy_page(request, household_id):
    household = access_household(request.user, household_id)
    newest = policy_newest(household)
    in_force = policy_in_force(household)
    context = {
        "household": household,
        "newest": newest,
        "in_force": in_force,
        "acks": policy_acknowledgments(newest, viewer=request.user) if newest else [],
        "history": policy_history(household),
        "approvers": household_account_approvers(household, newest) if newest else [],
        "fields": [HarvestPolicy._meta.get_field(name) for name in POLICY_FIELDS],
    }
    context["can_acknowledge"] = any(a.can_acknowledge for a in context["acks"])
    return render(request, "harvester/policy.html", context)


@login_required
def policy_edit(request, household_id):
    household = access_household(request.user, household_id, manage=True)
    newest = policy_newest(household)
    initial = model_to_dict(newest, fields=list(POLICY_FIELDS)) if newest else {}
    form = PolicyForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            values = {k: form.cleaned_data[k] for k in POLICY_FIELDS}
            try:
                policy = policy_create_version(
                    household=household,
                    actor=request.user,
                    values=values,
                    note=form.cleaned_data["change_note"],
                    request=request,
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, f"Version {policy.version} drafted. It governs new proposals once every owner acknowledges it.")
                return redirect("policy", household_id=household.pk)
        status = 400
    return render(
        request, "harvester/policy_edit.html", {"household": household, "form": form, "newest": newest}, status=status
    )


@login_required
@require_POST
def policy_acknowledge_view(request, household_id):
    household = access_household(request.user, household_id)
    newest = policy_newest(household)
    try:
        version = int(request.POST.get("version", ""))
    except ValueError:
        version = None
    policy = HarvestPolicy.objects.filter(household=household, version=version).first()
    if policy is None or newest is None:
        messages.error(request, "There is no such policy version.")
        return redirect("policy", household_id=household.pk)
    try:
        acks = policy_acknowledge(policy=policy, user=request.user, request=request)
    except PolicyConflict as exc:
        messages.error(request, str(exc))
        return _policy_redirect_or_409(request, household, str(exc))
    messages.success(request, f"You acknowledged version {policy.version} for {', '.join(a.owner.name for a in acks)}.")
    return redirect("policy", household_id=household.pk)


def _policy_redirect_or_409(request, household, reason):
    if request.htmx:
        return HttpResponse(reason, status=409)
    return redirect("policy", household_id=household.pk)


# ---- audit trail


def _audit_filters(request, household):
    actions = AuditEvent.objects.filter(household=household).values_list("action", flat=True).distinct().order_by("action")
    members = Membership.objects.filter(household=household).values("user_id")
    actors = get_user_model().objects.filter(pk__in=members).order_by("username")
    form = AuditFilterForm(request.GET or None, actions=list(actions), actors=actors)
    filters = approvals.AuditFilter()
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        filters = approvals.AuditFilter(data["action"], data["actor"], data["start"], data["end"])
    return form, filters


@login_required
def audit_page(request, household_id):
    household = access_household(request.user, household_id)
    form, filters = _audit_filters(request, household)
    events = approvals.audit_events(household, role=household.viewer_role, filters=filters)
    rows = list(events[: AUDIT_PAGE_ROWS + 1])
    context = {
        "household": household,
        "form": form,
        "events": rows[:AUDIT_PAGE_ROWS],
        "truncated": len(rows) > AUDIT_PAGE_ROWS,
        "show_ip": household.viewer_role == Membership.Role.ADVISOR,
        "query": request.GET.urlencode(),
    }
    if request.htmx and request.htmx.target == "audit":
        return render(request, "harvester/audit.html#table", context)
    return render(request, "harvester/audit.html", context)


@login_required
def audit_csv(request, household_id):
    household = access_household(request.user, household_id)
    _form, filters = _audit_filters(request, household)
    events = approvals.audit_events(household, role=household.viewer_role, filters=filters)
    rows = approvals.audit_csv_rows(events)
    if household.viewer_role != Membership.Role.ADVISOR:
        rows = [[*r[:3], "", *r[4:]] for r in rows]
    response = HttpResponse(csv_text(approvals.AUDIT_CSV_HEADER, rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="audit-{household.pk}.csv"'
    return response
