"""D5 API: per-partner API keys (hash stored, revoked refused, last use), the portal
sell-through endpoint (idempotent by reference, 409, errors by line), isolation, and the
HQ API's scope."""

import hashlib
import json

import pytest
from django.test import Client
from django.utils import translation
from rest_framework.authtoken.models import Token

from crm.channels.models import ApiKey, SellThroughLine, SellThroughReport
from crm.channels.services.sellthrough import api_key_create, api_key_revoke
from crm.core.errors import Forbidden, NotFound

pytest_plugins = ["crm.channels.tests.sellthrough_fixtures"]
URL = "/api/v1/portal/sell-through/"


def key_client(raw: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Api-Key {raw}")


def body(st, reference="API-1", **line):
    values = st.line(**line)
    values["sold_on"] = values["sold_on"].isoformat()
    values["quantity"], values["amount"] = (
        str(values["quantity"]),
        str(values["amount"]),
    )
    return {"reference": reference, "lines": [values]}


def post(client, data):
    return client.post(URL, json.dumps(data), content_type="application/json")


# Keys


def test_a_key_is_shown_once_and_only_its_hash_is_stored(st):
    key, raw = api_key_create(actor=st.pa_admin, partner=st.partner_a, name="ERP")

    stored = ApiKey.objects.get(pk=key.pk)
    prefix, secret = raw.split(".")
    assert stored.prefix == prefix
    assert len(secret) >= 43  # 32 random bytes, url-safe base64
    assert stored.hashed_key == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in json.dumps(
        list(ApiKey.objects.values().filter(pk=key.pk)), default=str
    )
    assert stored.last_used_at is None


def test_only_the_partners_admins_manage_its_keys(st):
    with pytest.raises(Forbidden):
        api_key_create(actor=st.pa_user, partner=st.partner_a, name="x")
    with pytest.raises(NotFound):
        api_key_create(actor=st.pc_admin, partner=st.partner_a, name="x")
    with pytest.raises(NotFound):
        api_key_create(actor=st.mgr_a, partner=st.partner_a, name="x")


def test_a_key_reports_for_its_partner_and_stamps_its_last_use(st):
    key, raw = api_key_create(actor=st.pa_admin, partner=st.partner_a, name="ERP")

    response = post(key_client(raw), body(st))

    assert response.status_code == 201, response.content
    report = SellThroughReport.objects.get()
    assert report.partner == st.partner_a
    assert report.source == SellThroughReport.Source.API
    assert report.api_key == key
    assert response.json()["lines"][0]["quantity"] == "2.0000"
    key.refresh_from_db()
    assert key.last_used_at is not None


def test_a_revoked_key_is_refused(st):
    key, raw = api_key_create(actor=st.pa_admin, partner=st.partner_a, name="ERP")
    assert key_client(raw).get(URL).status_code == 200
    api_key_revoke(actor=st.pa_admin, key=key)

    assert key_client(raw).get(URL).status_code == 401
    assert post(key_client(raw), body(st)).status_code == 401
    assert SellThroughReport.objects.count() == 0


def test_a_wrong_secret_with_a_real_prefix_is_refused(st):
    _key, raw = api_key_create(actor=st.pa_admin, partner=st.partner_a, name="ERP")
    prefix = raw.split(".")[0]

    response = key_client(f"{prefix}.not-the-secret").get(URL)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Api-Key"
    assert key_client("garbage").get(URL).status_code == 401


def test_a_key_stops_when_its_creator_leaves_the_partner(st):
    _key, raw = api_key_create(actor=st.pa_admin, partner=st.partner_a, name="ERP")
    st.pa_admin.is_active = False
    st.pa_admin.save()

    assert key_client(raw).get(URL).status_code == 401


# Reports through the API


def test_resubmitting_the_same_report_answers_200_replayed_and_counts_once(st):
    _key, raw = api_key_create(actor=st.pa_admin, partner=st.partner_a, name="ERP")
    client = key_client(raw)
    first = post(client, body(st, "API-7"))

    again = post(client, body(st, "API-7"))

    assert first.status_code == 201
    assert again.status_code == 200
    assert again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert again.json()["id"] == first.json()["id"]
    assert SellThroughLine.objects.count() == 1


def test_the_same_reference_with_other_lines_answers_409(st):
    _key, raw = api_key_create(actor=st.pa_admin, partner=st.partner_a, name="ERP")
    client = key_client(raw)
    post(client, body(st, "API-8"))

    with translation.override("en"):
        response = post(client, body(st, "API-8", quantity="5"))

    assert response.status_code == 409
    assert "API-8" in response.json()["message"]
    assert SellThroughLine.objects.get().quantity == 2


def test_invalid_lines_answer_400_naming_line_and_field(st):
    client = Client()
    client.force_login(st.pa_user)
    data = body(st, "API-9")
    data["lines"].append(dict(data["lines"][0], quantity="0"))

    response = post(client, data)

    assert response.status_code == 400
    assert "lines.1.quantity" in response.json()["fields"]
    assert SellThroughReport.objects.count() == 0


def test_partner_users_report_with_a_session_or_token(st):
    session = Client()
    session.force_login(st.pa_user)
    assert post(session, body(st, "S-1")).status_code == 201
    token = Token.objects.create(user=st.pa_user)
    client = Client(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert post(client, body(st, "T-1")).status_code == 201
    assert set(SellThroughReport.objects.values_list("submitted_by", flat=True)) == {
        st.pa_user.pk
    }


def test_the_portal_api_shows_only_the_callers_partner(st):
    own = st.submit("MINE")
    other = st.submit("THEIRS", actor=st.pc_admin, partner=st.partner_c)
    _key, raw = api_key_create(actor=st.pa_admin, partner=st.partner_a, name="ERP")
    client = key_client(raw)

    listed = client.get(URL).json()["results"]

    assert [r["id"] for r in listed] == [own.pk]
    assert client.get(f"{URL}{own.pk}/").status_code == 200
    assert client.get(f"{URL}{other.pk}/").status_code == 404


def test_hq_users_get_no_portal_api(st):
    client = Client()
    client.force_login(st.mgr_a)
    assert client.get(URL).status_code == 403
    assert post(client, body(st)).status_code == 403


# HQ API


def test_the_hq_api_lists_reports_and_lines_in_scope(st):
    own = st.submit("A-1")
    other = st.submit("C-1", actor=st.pc_admin, partner=st.partner_c)
    client = Client()
    client.force_login(st.mgr_a)

    reports = client.get("/api/v1/channels/sell-through-reports/").json()["results"]
    lines = client.get("/api/v1/channels/sell-through-lines/").json()["results"]

    assert [r["id"] for r in reports] == [own.pk]
    assert [x["report"] for x in lines] == [own.pk]
    detail = client.get(f"/api/v1/channels/sell-through-reports/{own.pk}/")
    assert detail.json()["lines"][0]["amount"] == "180000.000000"
    assert (
        client.get(f"/api/v1/channels/sell-through-reports/{other.pk}/").status_code
        == 404
    )
    filtered = client.get(
        "/api/v1/channels/sell-through-reports/", {"partner": st.partner_c.pk}
    )
    assert filtered.status_code == 400 or filtered.json()["results"] == []


def test_the_department_head_sees_both_managers_reports(st):
    st.submit("A-1")
    st.submit("C-1", actor=st.pc_admin, partner=st.partner_c)
    client = Client()
    client.force_login(st.admin)

    reports = client.get("/api/v1/channels/sell-through-reports/").json()["results"]

    assert {r["reference"] for r in reports} == {"A-1", "C-1"}
