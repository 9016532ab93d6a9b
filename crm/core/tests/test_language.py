import pytest


@pytest.mark.django_db
def test_pages_are_chinese_for_an_english_browser_until_english_is_chosen(client):
    """X1: zh-hans is the default whatever the browser asks; the switch sets English."""
    page = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert page["Content-Language"] == "zh-hans"
    assert "登录" in page.content.decode()
    client.post("/i18n/setlang/", {"language": "en", "next": "/accounts/login/"})
    page = client.get("/accounts/login/")
    assert page["Content-Language"] == "en"
    assert "Sign in" in page.content.decode()
