"""CSRF on every htmx request: the token rides on hx-headers on <body> (templates/base.html), every
template that makes htmx send a write extends that base, and a write without the token is refused."""

import json
import re
from pathlib import Path

import pytest
from django.test import Client

from tests.signin import sign_in

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
WRITES = re.compile(r"\bhx-(post|put|patch|delete)=")
EXTENDS = re.compile(r"{%\s*extends\s+[\"']([^\"']+)[\"']\s*%}")


def template_name(path: Path) -> str:
    return str(path.relative_to(TEMPLATES))


def reaches_base(name: str, seen=()) -> bool:
    """Whether the template `name` ends up inside base.html: it extends it (through any chain), or every
    template that includes it does."""
    if name == "base.html":
        return True
    if name in seen:
        return False
    text = (TEMPLATES / name).read_text()
    parent = EXTENDS.search(text)
    if parent:
        return reaches_base(parent.group(1), (*seen, name))
    includers = [template_name(p) for p in TEMPLATES.rglob("*.html")
                 if re.search(r"{%\s*include\s+[\"']" + re.escape(name) + r"[\"'#]", p.read_text())]
    return bool(includers) and all(reaches_base(i, (*seen, name)) for i in includers)


def test_base_puts_the_csrf_token_on_every_htmx_request():
    body = re.search(r"<body\s[^>]*>", (TEMPLATES / "base.html").read_text()).group(0)
    assert """hx-headers='{"X-CSRFToken": "{{ csrf_token }}"}'""" in body


def test_every_template_with_an_htmx_write_is_inside_the_base():
    writers = [template_name(p) for p in TEMPLATES.rglob("*.html") if WRITES.search(p.read_text())]
    assert writers, "expected some hx-post forms"
    assert [name for name in writers if not reaches_base(name)] == []


@pytest.mark.django_db
def test_an_htmx_post_without_the_token_is_refused_and_with_it_passes(world):
    client = sign_in(Client(enforce_csrf_checks=True), world.advisor)
    page = client.get(f"/households/{world.household.pk}/scan/")
    headers = json.loads(re.search(r"<body hx-headers='([^']+)'", page.content.decode()).group(1))
    url = f"/households/{world.household.pk}/scan/"

    refused = client.post(url, HTTP_HX_REQUEST="true")
    assert refused.status_code == 403 and b"CSRF" in refused.content
    accepted = client.post(url, HTTP_HX_REQUEST="true", HTTP_X_CSRFTOKEN=headers["X-CSRFToken"])
    assert accepted.status_code != 403
