"""The dashboard drill-down's page of sales as table rows, written in Python: fifty rows of ten cells
through the template engine were half the time of the partial that shows them (docs/reporting.md, "Speed").
The cells are those the template wrote, with the same filters (harvester/templatetags/money.py)."""

from html import escape

from django import template
from django.utils.safestring import mark_safe

from harvester.templatetags.money import money, qty, signed_money_html

register = template.Library()


@register.simple_tag
def sale_rows(rows, year):
    if not rows:
        return mark_safe(f'<tr><td colspan="10">No reportable sales in {int(year)}.</td></tr>')
    html = []
    for s in rows:
        wash = f"W {money(s.disallowed)}" if s.disallowed else ""
        html.append(
            f'<tr class="sale-row" data-sale="{int(s.sale_id)}"><td>{s.date_sold.isoformat()}</td>'
            f'<td>{escape(s.ticker)}</td><td class="num">{qty(s.quantity)}</td>'
            f'<td class="num">{money(s.proceeds)}</td><td class="num">{money(s.cost_basis)}</td>'
            f'<td class="num">{wash}</td><td class="num">{signed_money_html(s.short)}</td>'
            f'<td class="num">{signed_money_html(s.long)}</td><td class="num">{int(s.lots)}</td>'
            f'<td>{"harvest" if s.harvest else ""}</td></tr>'
        )
    # The ticker is escaped (html.escape, as Django's escape); money() and qty() write only digits, signs,
    # "$", "," and ".", and the rest are numbers and dates.
    return mark_safe("\n".join(html))
