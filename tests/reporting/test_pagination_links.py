"""The API's next/previous links are DRF's LimitOffsetPagination links, built from one parse of the URL."""

import pytest
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from harvester.api import Pagination


@pytest.mark.parametrize("query", [
    "", "limit=100", "limit=100&offset=0", "offset=100", "limit=100&offset=50", "limit=100&offset=100",
    "limit=100&offset=250", "limit=7&offset=3", "ticker=vti&limit=20&offset=40&account=3", "owner=2&offset=999",
    "z=1&a=&limit=30&offset=60&a=2", "limit=5000&offset=10", "offset=-3&limit=x",
])
@pytest.mark.parametrize("count", [0, 1, 100, 260, 1000])
def test_links_are_drfs(query, count):
    request = Request(APIRequestFactory().get(f"/api/households/1/open-lots/?{query}"))
    ours, drfs = Pagination(), LimitOffsetPagination()
    drfs.max_limit = ours.max_limit
    ours.paginate_rows(request, lambda limit, offset: (count, []))
    drfs.request, drfs.limit, drfs.offset, drfs.count = request, drfs.get_limit(request), drfs.get_offset(request), count
    assert (ours.limit, ours.offset) == (drfs.limit, drfs.offset)
    assert (ours.get_next_link(), ours.get_previous_link()) == (drfs.get_next_link(), drfs.get_previous_link())
