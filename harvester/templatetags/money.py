"""Display filters for money and quantities: exact Decimal in, grouped text out (no floats)."""

from decimal import Decimal, InvalidOperation

from django import template
from django.utils.safestring import mark_safe

from harvester.money import to_cents

register = template.Library()


@register.filter
def money(value) -> str:
    """1234.5 -> '$1,234.50'; negatives with a leading minus sign; None -> '—'."""
    if value is None or value == "":
        return "—"
    try:
        amount = to_cents(Decimal(value))
    except (InvalidOperation, TypeError, ValueError):
        return "—"
    if not amount.is_finite():  # NaN or infinity: not an amount
        return "—"
    sign = "−" if amount < 0 else ""
    return f"{sign}${abs(amount):,.2f}"


@register.filter
def signed_money(value):
    """Money with a class for gains/losses; the sign and a word carry the meaning, not colour alone."""
    return mark_safe(signed_money_html(value))  # money() writes only digits, signs, "$", "," and "."


def signed_money_html(value) -> str:
    """signed_money's markup as a plain string (for code that writes many cells at once)."""
    text = money(value)
    if text == "—":  # nothing, or not an amount
        return text
    return f'<span class="{"loss" if Decimal(value) < 0 else "gain"}">{text}</span>'


@register.filter
def qty(value) -> str:
    """Quantities without trailing zeros: 10.50000000 -> '10.5'."""
    if value is None:
        return "—"
    d = Decimal(value).normalize()
    text = f"{d:,f}"
    return text


@register.filter
def percent(value) -> str:
    if value is None:
        return "—"
    d = Decimal(value)
    sign = "−" if d < 0 else ""
    return f"{sign}{abs(d):.2f}%"


@register.filter
def get_item(mapping, key):
    """dict lookup in templates: {{ totals|get_item:account.id }}."""
    if not mapping:
        return None
    return mapping.get(key)
