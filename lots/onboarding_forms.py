"""Forms of the onboarding pages: imports, prices and scheduled purchases. Parsing only; services decide."""

from django import forms

from lots.importers import FORMAT_CHOICES
from lots.imports import ImportOptions
from lots.models import AssetClass, ScheduledPurchase, Security


class ImportUploadForm(forms.Form):
    account = forms.ModelChoiceField(queryset=None, empty_label="Choose…", help_text="The household account the "
                                     "trades or lots go into.")
    file = forms.FileField(help_text="CSV, OFX/QFX or IBKR Flex XML, at most 20 MB.")
    format = forms.ChoiceField(choices=FORMAT_CHOICES, initial="auto")
    source_account = forms.CharField(required=False, max_length=120, label="Account in the file",
                                     help_text="Only for files that hold several accounts: its number or label.")
    as_of = forms.DateField(required=False, label="Positions as of", widget=forms.DateInput(attrs={"type": "date"}),
                            help_text="Only for a positions file that does not say its date.")

    def __init__(self, *args, household, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account"].queryset = household.accounts.order_by("name")

    def options(self) -> ImportOptions:
        data = self.cleaned_data
        return ImportOptions(format=data["format"], source_account=data["source_account"].strip(),
                             as_of=data["as_of"])


class ImportOptionsForm(forms.Form):
    """Preview again: another account, the account in the file, the positions date, asset classes of new tickers."""

    account = forms.ModelChoiceField(queryset=None, empty_label=None)
    source_account = forms.ChoiceField(required=False, label="Account in the file")
    as_of = forms.DateField(required=False, label="Positions as of", widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, household, batch, **kwargs):
        super().__init__(*args, **kwargs)
        self.batch = batch
        self.fields["account"].queryset = household.accounts.order_by("name")
        self.fields["account"].initial = batch.account_id
        labels = batch.summary.get("accounts_in_file") or []
        self.fields["source_account"].choices = [("", "—"), *((a, a) for a in labels)]
        self.fields["source_account"].initial = batch.options.get("source_account") or ""
        self.fields["as_of"].initial = batch.options.get("as_of")
        classes = [("", "Do not import (add it in the admin later)"),
                   *AssetClass.objects.order_by("name").values_list("code", "name")]
        chosen = batch.options.get("new_securities") or {}
        unknown = list(batch.summary.get("unknown_tickers") or {}) + list(batch.summary.get("new_securities") or {})
        self.ticker_fields = []
        for ticker in sorted(set(unknown)):
            name = f"asset_class_{ticker}"
            self.fields[name] = forms.ChoiceField(choices=classes, required=False, label=f"Asset class of {ticker}",
                                                  initial=chosen.get(ticker, ""))
            self.ticker_fields.append(name)

    def options(self) -> ImportOptions:
        data = self.cleaned_data
        new = {f.removeprefix("asset_class_"): data[f] for f in self.ticker_fields if data.get(f)}
        return ImportOptions(format=self.batch.options.get("format") or "auto",
                             source_account=data.get("source_account") or "", as_of=data.get("as_of"),
                             new_securities=new)


class PriceUploadForm(forms.Form):
    file = forms.FileField(help_text="date,ticker,close, or a Yahoo Finance / Stooq daily download.")
    ticker = forms.CharField(required=False, max_length=12, help_text="For a one-ticker download whose file name "
                             "does not say it (Yahoo names files VTI.csv).")


class ScheduledPurchaseForm(forms.ModelForm):
    class Meta:
        model = ScheduledPurchase
        fields = ["account", "security", "kind", "frequency", "amount", "start_date", "end_date", "paused_until",
                  "active"]
        widgets = {f: forms.DateInput(attrs={"type": "date"}) for f in ("start_date", "end_date", "paused_until")}
        help_texts = {"frequency": "A DRIP follows the fund's distribution months instead (docs/importing.md)."}

    def __init__(self, *args, household, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account"].queryset = household.accounts.order_by("name")
        self.fields["security"].queryset = Security.objects.order_by("ticker")

    def clean(self):
        data = super().clean()
        kind, amount = data.get("kind"), data.get("amount")
        if kind == ScheduledPurchase.Kind.DRIP and amount is not None:
            self.add_error("amount", "A DRIP reinvests the dividend: leave the amount blank.")
        if kind in (ScheduledPurchase.Kind.CONTRIBUTION, ScheduledPurchase.Kind.PAYROLL) and amount is None:
            self.add_error("amount", "Give the amount each purchase invests.")
        if amount is not None and amount <= 0:
            self.add_error("amount", "The amount must be positive.")
        start, end = data.get("start_date"), data.get("end_date")
        if start and end and end < start:
            self.add_error("end_date", "The end date is before the start date.")
        return data
