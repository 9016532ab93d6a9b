"""D4 credit check under concurrency (PostgreSQL): the approval locks the partner
row, so a second approval waits for the first and then counts it. Without the lock
the second approval would read the exposure before the first committed and pass."""

import threading
from decimal import Decimal

import pytest
from django.db import close_old_connections, connection, connections, transaction

from crm.channels.models import Partner, PurchaseOrder
from crm.channels.services import sellin as services
from crm.core.errors import Conflict

pytest_plugins = ["crm.channels.tests.sellin_fixtures"]

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="row locks need PostgreSQL"
    ),
]


def _waiting_on_a_lock() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE wait_event_type = 'Lock' AND datname = current_database()"
        )
        return cursor.fetchone()[0]


def test_a_second_approval_waits_for_the_first_and_counts_it(sellin_org, make_po):
    org, cat = sellin_org, sellin_org.catalogue
    org.partner_a.credit_limit = Decimal("300000")
    org.partner_a.save()
    # 2 × 81 000 = 162 000 each: either fits under 300 000, both do not (324 000).
    first = make_po(org, org.pa_user, [(cat.p1, 2)], to="submitted")
    second = make_po(org, org.pa_user, [(cat.p1, 2)], to="submitted")
    outcome = {}

    def approve_second():
        try:
            services.purchase_order_approve(actor=org.mgr_a, order=second)
            outcome["second"] = "approved"
        except Conflict:
            outcome["second"] = "refused"
        finally:
            connections.close_all()

    with transaction.atomic():
        # The first approval holds the partner row, as its service does.
        Partner.objects.select_for_update().get(pk=org.partner_a.pk)
        worker = threading.Thread(target=approve_second)
        worker.start()
        for _ in range(2000):  # until the second approval waits (or has finished)
            if _waiting_on_a_lock() or not worker.is_alive():
                break
            worker.join(0.01)
        services.purchase_order_approve(actor=org.mgr_a, order=first)
    worker.join()
    close_old_connections()
    assert outcome == {"second": "refused"}
    statuses = dict(PurchaseOrder.objects.values_list("pk", "status"))
    assert statuses == {first.pk: "approved", second.pk: "submitted"}
