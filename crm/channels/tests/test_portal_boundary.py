"""D3: partner users stay inside the portal; HQ users do not enter it."""

import pytest


@pytest.mark.parametrize(
    "path", ["/customers/", "/sales/quotes/", "/channels/partners/", "/org/news/"]
)
def test_a_partner_user_never_reaches_an_hq_page(channel_org, client_for, path):
    response = client_for(channel_org.pa_user).get(path)
    assert response.status_code == 404


def test_a_partner_user_lands_in_the_portal(channel_org, client_for):
    client = client_for(channel_org.pa_user)
    response = client.get("/", follow=True)
    assert response.redirect_chain[-1][0] == "/portal/"
    assert "杭州恒通机械有限公司" in response.content.decode()


def test_an_hq_user_does_not_enter_the_portal(channel_org, client_for):
    assert client_for(channel_org.mgr_a).get("/portal/").status_code == 404
    assert client_for(channel_org.admin).get("/portal/").status_code == 404


def test_a_partner_user_gets_no_hq_api(channel_org):
    from django.test import Client
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=channel_org.pa_user)
    client = Client(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert client.get("/api/v1/customers/customers/").status_code in (403, 404)
