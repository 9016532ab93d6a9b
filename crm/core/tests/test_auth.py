"""Y1 login: the login page, lockout, login required everywhere, password hashing and policy."""

import re

import pytest
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import URLResolver, get_resolver, resolve, reverse
from django.urls.resolvers import RegexPattern

from config.settings import base as base_settings

pytestmark = pytest.mark.usefixtures("english")

PASSWORD = "Pass-word-2026"  # the factories' password


def login(client, username, password, ip):
    return client.post(
        reverse("login"),
        {"username": username, "password": password},
        REMOTE_ADDR=ip,
    )


@pytest.mark.django_db
def test_login_page_renders(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert b'name="username"' in response.content
    assert b'name="password"' in response.content


def test_right_password_signs_in(org, client):
    response = login(client, "rep_a", PASSWORD, "10.0.0.1")
    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 200


def test_wrong_password_shows_the_form_again(org, client):
    response = login(client, "rep_a", "wrong-password", "10.0.0.1")
    assert response.status_code == 200
    assert b'name="password"' in response.content
    assert client.get(reverse("home")).status_code == 302  # still signed out


def test_five_failures_lock_the_account_from_that_address(org, client):
    """Y1: 5 wrong passwords for one username from one IP lock that pair, with a clear page."""
    for _attempt in range(4):
        assert login(client, "rep_a", "wrong-password", "10.0.0.1").status_code == 200
    login(client, "rep_a", "wrong-password", "10.0.0.1")

    response = login(client, "rep_a", PASSWORD, "10.0.0.1")

    assert response.status_code == 429
    assert b"Too many failed sign-in attempts" in response.content
    assert b"15 minutes" in response.content
    assert client.get(reverse("home")).status_code == 302  # not signed in


def test_lockout_is_per_account_and_address(org):
    for _attempt in range(5):
        login(Client(), "rep_a", "wrong-password", "10.0.0.1")
    assert login(Client(), "rep_a", PASSWORD, "10.0.0.1").status_code == 429

    other_ip = login(Client(), "rep_a", PASSWORD, "10.0.0.2")
    other_user = login(Client(), "rep_b", PASSWORD, "10.0.0.1")

    assert other_ip.status_code == 302
    assert other_user.status_code == 302


# Every URL of the project needs a login, except these (and static files, not in the resolver).
# The calendar feed (X5) is read by calendar applications with its secret token alone.
OPEN_URL_NAMES = {
    "login",
    "set_language",
    "healthz",
    "core:calendar-ics",
    "sales:lead-web-form",  # S1: the public lead form other sites embed
}


def _argument(converter: str, name: str) -> str:
    if converter in ("int", "path"):
        return "1"
    if converter == "uuid":
        return "00000000-0000-0000-0000-000000000001"
    if converter == "str" and name == "key":
        return "products.product"  # a registered list (exports, imports)
    return "x"


def _concrete(part: str, is_regex: bool) -> str:
    """A URL pattern with every argument filled in: pk=1, key=a registered list."""
    if is_regex:
        part = part.lstrip("^").rstrip("$")
        return re.sub(r"\(\?P<(\w+)>[^)]*\)", "1", part)
    return re.sub(
        r"<(?:(\w+):)?(\w+)>",
        lambda m: _argument(m.group(1) or "str", m.group(2)),
        part,
    )


def _walk(patterns, prefix=""):
    for pattern in patterns:
        part = _concrete(
            str(pattern.pattern), isinstance(pattern.pattern, RegexPattern)
        )
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, prefix + part)
        else:
            yield "/" + prefix + part


def _project_urls():
    urls = []
    for url in _walk(get_resolver().url_patterns):
        match = resolve(url)
        if match.view_name in OPEN_URL_NAMES:
            continue
        urls.append(url)
    return urls


def test_the_url_walk_covers_pages_and_api():
    urls = _project_urls()
    assert "/products/1/" in urls
    assert "/api/v1/products/products/1/" in urls
    assert "/export/products.product/" in urls
    assert len(urls) > 40


@pytest.mark.django_db
@pytest.mark.parametrize("url", _project_urls())
def test_every_url_requires_login(client, url):
    """Y1: pages redirect to the login page; API endpoints answer 401 or 403."""
    response = client.get(url)
    if url.startswith("/api/"):
        assert response.status_code in (401, 403), url
        if url.startswith("/api/v1/"):
            assert response.json()["code"] in ("not_authenticated", "forbidden")
    else:
        assert response.status_code == 302, url
        location = response["Location"].split("?")[0]
        assert location == reverse("login"), url


@pytest.mark.django_db
def test_open_urls_answer_without_login(client):
    assert client.get(reverse("login")).status_code == 200
    assert client.get(reverse("healthz")).status_code == 200
    assert client.get(reverse("sales:lead-web-form")).status_code == 200


def test_argon2_is_the_production_password_hasher():
    assert base_settings.PASSWORD_HASHERS[0] == (
        "django.contrib.auth.hashers.Argon2PasswordHasher"
    )
    assert "MD5" not in " ".join(base_settings.PASSWORD_HASHERS)


def test_tests_use_a_fast_hasher_but_same_validators():
    assert settings.AUTH_PASSWORD_VALIDATORS == base_settings.AUTH_PASSWORD_VALIDATORS


@pytest.mark.django_db
@pytest.mark.parametrize("weak", ["12345678", "password", "short1"])
def test_password_policy_refuses_weak_passwords(weak):
    with pytest.raises(ValidationError):
        validate_password(weak)


@pytest.mark.django_db
def test_password_policy_accepts_a_decent_password():
    validate_password("Lantern-Harbour-42")
