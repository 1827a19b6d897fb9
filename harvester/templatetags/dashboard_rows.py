"""The dashboard drill-down's page of sales as table rows, written in Python: fifty rows of ten cells
through the template engine were half the time of the partial that shows them (docs/reporting.md, "Speed").
The cells are those the template wrote, with the same filters (harvester/templatetags/money.py)."""

from django import template
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe

from harvester.templatetags.money import money, qty, signed_money

register = template.Library()


@register.simple_tag
def sale_rows(rows, year):
    if not rows:
        return format_html('<tr><td colspan="10">No reportable sales in {}.</td></tr>', year)
    html = []
    for s in rows:
        wash = f"W {escape(money(s.disallowed))}" if s.disallowed else ""
        html.append(
            f'<tr class="sale-row" data-sale="{int(s.sale_id)}"><td>{s.date_sold.isoformat()}</td>'
            f'<td>{escape(s.ticker)}</td><td class="num">{escape(qty(s.quantity))}</td>'
            f'<td class="num">{escape(money(s.proceeds))}</td><td class="num">{escape(money(s.cost_basis))}</td>'
            f'<td class="num">{wash}</td><td class="num">{signed_money(s.short)}</td>'
            f'<td class="num">{signed_money(s.long)}</td><td class="num">{int(s.lots)}</td>'
            f'<td>{"harvest" if s.harvest else ""}</td></tr>'
        )
    return mark_safe("\n".join(html))  # every value above is escaped or a number
