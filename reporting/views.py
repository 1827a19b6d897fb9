"""The API's documentation page: no CDN, no JavaScript; it links the OpenAPI schema and lists the operations."""

from functools import cache

from django.shortcuts import render
from drf_spectacular.generators import SchemaGenerator


@cache
def _schema() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def api_docs(request):
    """Every operation of the OpenAPI schema with its summary; the schema itself is at /api/schema/."""
    schema = _schema()
    operations = []
    for route, methods in schema.get("paths", {}).items():
        for method, op in methods.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            params = [p["name"] for p in op.get("parameters", []) if p.get("in") == "query"]
            operations.append(
                {"method": method.upper(), "path": route, "summary": (op.get("description") or "").split("\n")[0],
                 "tags": ", ".join(op.get("tags", [])), "query": params}
            )
    operations.sort(key=lambda o: (o["path"], o["method"]))
    return render(request, "harvester/api_docs.html", {"operations": operations, "info": schema.get("info", {})})
