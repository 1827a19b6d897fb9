"""Forms of the approval pages: policy edit, decisions, comments, fills, audit filters."""

from django import forms
from django.utils import timezone

from harvester.models import HarvestPolicy
from harvester.policy import POLICY_FIELDS


class PolicyForm(forms.ModelForm):
    """The advisor's draft of the next policy version (prefilled with the newest one)."""

    class Meta:
        model = HarvestPolicy
        fields = [*POLICY_FIELDS, "change_note"]
        labels = {
            "min_loss_amount": "Minimum loss ($)",
            "min_loss_percent": "Minimum loss (%)",
            "benefit_cost_margin": "Tax value must exceed trading cost by (×)",
            "scope": "Wash-sale scope",
            "joint_approval": "Joint accounts are approved by",
            "trust_quorum": "Trustees needed to approve a trust account",
            "advisor_discretion_limit": "Advisor may act alone on trades below ($)",
            "proposal_expiry_days": "Proposals expire after (days)",
            "switchback_gain_limit": "Switch back only if the gain is below ($)",
            "review_cadence": "Review cadence",
            "change_note": "What changed and why",
        }
        help_texts = {
            "trust_quorum": "Blank: every trustee.",
            "advisor_discretion_limit": "0: the advisor never approves on an owner's behalf. Needs the owners' written grant.",
        }

    def clean_trust_quorum(self):
        value = self.cleaned_data.get("trust_quorum")
        if value is not None and value < 1:
            raise forms.ValidationError("At least one trustee, or blank for all.")
        return value


class DecisionForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    comment = forms.CharField(required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))
    password = forms.CharField(required=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))


class RejectForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    reason = forms.CharField(max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class CommentForm(forms.Form):
    body = forms.CharField(max_length=5000, widget=forms.Textarea(attrs={"rows": 2}))


class FillsForm(forms.Form):
    trade_date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    sell_price = forms.DecimalField(max_digits=16, decimal_places=6, min_value=0)
    sell_quantity = forms.DecimalField(max_digits=20, decimal_places=8, min_value=0)
    buy_price = forms.DecimalField(max_digits=16, decimal_places=6, min_value=0)
    buy_quantity = forms.DecimalField(max_digits=20, decimal_places=8, min_value=0)
    sell_fees = forms.DecimalField(max_digits=16, decimal_places=2, min_value=0, initial=0, required=False)
    buy_fees = forms.DecimalField(max_digits=16, decimal_places=2, min_value=0, initial=0, required=False)

    def clean_trade_date(self):
        value = self.cleaned_data["trade_date"]
        if value > timezone.localdate():
            raise forms.ValidationError("The trade date cannot be in the future.")
        return value


class AuditFilterForm(forms.Form):
    action = forms.ChoiceField(required=False)
    actor = forms.TypedChoiceField(required=False, coerce=int, empty_value=None)
    start = forms.DateField(required=False, label="From (UTC)", widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(required=False, label="To (UTC)", widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, actions=(), actors=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["action"].choices = [("", "Any action"), *((a, a) for a in actions)]
        self.fields["actor"].choices = [("", "Anyone"), *((u.pk, u.get_full_name() or u.username) for u in actors)]
