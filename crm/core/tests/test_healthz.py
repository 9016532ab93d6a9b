"""/healthz: for load balancers, open without login, and honest about the database."""

from unittest import mock

import pytest
from django.db import OperationalError, connections


@pytest.mark.django_db
def test_healthz_answers_ok_without_login(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok"


@pytest.mark.django_db
def test_healthz_answers_503_when_the_database_fails(client):
    broken = mock.Mock(side_effect=OperationalError("connection refused"))
    with mock.patch.object(connections["default"], "cursor", broken):
        response = client.get("/healthz")
    assert broken.called
    assert response.status_code == 503
    assert b"ok" not in response.content
    assert b"database" in response.content
