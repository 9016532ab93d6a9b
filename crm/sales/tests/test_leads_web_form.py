"""S1 public web form: no login, no CSRF cookie needed; spam kept out by the honeypot,
the signed timestamp token (too fast or forged: refused) and the per-address rate limit
(429); a valid submission becomes a web-form lead, assigned by rule, with the sender's
address and the page the form was embedded in."""

import ipaddress
import secrets
import time

import pytest
from django.core.cache import cache
from django.test import Client

from crm.core.models import Notification
from crm.core.tests import pages
from crm.sales.models import Lead
from crm.sales.tests.leads_fixtures import *  # noqa: F403
from crm.sales.web.leads_forms import issue_token

pytestmark = pytest.mark.usefixtures("english")
URL = "/sales/leads/web-form/"


_used_ips: list[str] = []


def fresh_ip() -> str:
    """An address no other test (nor an earlier run against the same Redis) counted:
    the rate limit's counters live in the shared cache, which is never cleared here
    (in CI it is Redis, shared with the Celery broker)."""
    ip = str(ipaddress.IPv4Address("198.18.0.0") + secrets.randbelow(2**17))
    _used_ips.append(ip)
    return ip


@pytest.fixture(autouse=True)
def _forget_counters():
    yield
    cache.delete_many([f"crm:sales:lead-web-form:{ip}" for ip in _used_ips])
    _used_ips.clear()


def visitor(ip=None) -> Client:
    """An anonymous visitor; CSRF is enforced as a browser would meet it."""
    return Client(enforce_csrf_checks=True, REMOTE_ADDR=ip or fresh_ip())


def form(**fields):
    data = {
        "name": "周先生",
        "company": "杭州某某科技",
        "mobile": "13912345678",
        "email": "zhou@example.com",
        "requirement": "想了解经销政策",
        "website": "",
        "token": issue_token(
            referer="https://www.example.com/contact", issued_at=time.time() - 20
        ),
    }
    data.update(fields)
    return data


def test_the_form_is_public_and_carries_a_token(sales_org):
    response = visitor().get(URL, HTTP_REFERER="https://www.example.com/expo")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="token"' in html
    assert 'name="website"' in html  # the honeypot
    assert "X-Frame-Options" not in response.headers  # may be embedded elsewhere


def test_a_valid_submission_creates_a_web_form_lead_assigned_by_rule(
    sales_org, make_rule
):
    make_rule(source="web_form", department=sales_org.south)
    ip = fresh_ip()
    response = visitor(ip).post(URL, form())
    assert response.status_code == 200
    assert "Thank you!" in pages.text(response)
    lead = Lead.objects.get()
    assert (lead.name, lead.company, lead.mobile) == (
        "周先生",
        "杭州某某科技",
        "13912345678",
    )
    assert lead.source == "web_form"
    assert lead.source_detail == "https://www.example.com/contact"
    assert lead.submitted_ip == ip
    assert (lead.owner, lead.department) == (sales_org.rep_c, sales_org.south)
    assert Notification.objects.filter(recipient=sales_org.rep_c).count() == 1


def test_the_honeypot_thanks_the_bot_and_stores_nothing(sales_org):
    response = visitor().post(URL, form(website="http://spam.example"))
    assert response.status_code == 200
    assert "Thank you!" in pages.text(response)
    assert not Lead.objects.exists()


def test_too_fast_is_refused(sales_org):
    response = visitor().post(URL, form(token=issue_token()))
    assert response.status_code == 400
    assert "That was very quick" in pages.text(response)
    assert not Lead.objects.exists()
    # The page comes back with a fresh token: waiting and sending again works.
    assert 'name="token"' in response.content.decode()


@pytest.mark.parametrize("token", ["", "forged", "x:y:z"])
def test_a_missing_or_forged_token_is_refused(sales_org, token):
    response = visitor().post(URL, form(token=token))
    assert response.status_code == 400
    assert "This form has expired" in pages.text(response)
    assert not Lead.objects.exists()


def test_an_expired_token_is_refused(sales_org, settings, monkeypatch):
    settings.CRM_LEAD_FORM_TOKEN_MAX_AGE = 3600
    now = time.time()
    with monkeypatch.context() as m:
        m.setattr(time, "time", lambda: now - 3601)
        old = issue_token()
    response = visitor().post(URL, form(token=old))
    assert response.status_code == 400
    assert "This form has expired" in pages.text(response)
    with monkeypatch.context() as m:
        m.setattr(time, "time", lambda: now - 3500)
        slow = issue_token()
    assert visitor().post(URL, form(token=slow)).status_code == 200
    assert Lead.objects.count() == 1


def test_more_than_five_in_ten_minutes_from_one_address_get_429(sales_org):
    client = visitor()
    for i in range(5):
        response = client.post(URL, form(name=f"访客{i}"))
        assert response.status_code == 200, i
    response = client.post(URL, form(name="第六位"))
    assert response.status_code == 429
    assert "Too many submissions from your network" in pages.text(response)
    assert Lead.objects.count() == 5
    # Another address is not affected.
    assert visitor().post(URL, form(name="别处")).status_code == 200


def test_phone_and_email_are_validated(sales_org):
    response = visitor().post(URL, form(mobile="12345", email="not-an-email"))
    assert response.status_code == 400
    text = pages.text(response)
    assert "Enter a valid email address." in text
    assert not Lead.objects.exists()
    response = visitor().post(URL, form(mobile="", email="", phone=""))
    assert response.status_code == 400
    assert "Leave a mobile number, a phone number or an e-mail." in pages.text(response)
    response = visitor().post(URL, form(name=""))
    assert response.status_code == 400
    assert not Lead.objects.exists()


def test_only_the_form_fields_are_taken(sales_org):
    response = visitor().post(
        URL, form(status="converted", owner=sales_org.rep_a.pk, source="partner")
    )
    assert response.status_code == 200
    lead = Lead.objects.get()
    assert (lead.status, lead.source, lead.owner) == ("new", "web_form", None)
