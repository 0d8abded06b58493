from __future__ import annotations

import pytest
from django.urls import reverse

from peersupport.urlpattern import pk_url


@pytest.mark.parametrize(
    "url_name", ["groups:detail", "groups:join", "groups:session_ics", "referrals:inbox"]
)
def test_it_gives_the_same_address_as_reverse(url_name):
    address = pk_url(url_name)
    for pk in (1, 7, 2_147_483_647, 123456):
        assert address(pk) == reverse(url_name, args=[pk])


def test_it_refuses_an_address_without_one_id_segment():
    with pytest.raises(Exception):  # noqa: B017,PT011 - NoReverseMatch or ValueError
        pk_url("groups:list")
