"""D1 partner rules through the services: numbers, versions, parents without cycles,
credit limit, exclusive territories that never overlap another partner's."""

import threading

import pytest
from django.db import connection, transaction
from django.utils import translation

from crm.channels.models import Partner, Territory
from crm.channels.services import partners as services
from crm.channels.tests.partners_fixtures import (
    GUANGDONG,
    GUANGZHOU,
    HANGZHOU,
    NINGBO,
    ZHEJIANG,
    d,
    region,
)
from crm.core.errors import Conflict, Forbidden, Invalid, NotFound
from crm.core.models import AuditEvent

# Partners


def test_a_new_partner_gets_the_next_number_and_an_audit_record(channel_org):
    mgr = channel_org.mgr_a
    first = services.partner_create(
        actor=mgr,
        data={"name": "温州鑫达机械", "kind": "agent", "region": region(HANGZHOU)},
    )
    second = services.partner_create(actor=mgr, data={"name": "台州路通机械"})
    # QD000001–3 are the fixture's: the sequence skips numbers already taken.
    assert (first.number, second.number) == ("QD000004", "QD000005")
    assert first.owner == mgr
    assert first.department == mgr.department
    assert first.path == f"/{first.pk}/"
    assert AuditEvent.objects.filter(
        object_id=str(first.pk), action=AuditEvent.Action.CREATE
    ).exists()


def test_the_credit_limit_cannot_be_negative(channel_org):
    with pytest.raises(Invalid) as exc, translation.override("en"):
        services.partner_create(
            actor=channel_org.mgr_a, data={"name": "负额度", "credit_limit": -1}
        )
    assert exc.value.fields["credit_limit"] == ["The credit limit cannot be negative."]
    partner = channel_org.partner_a
    with pytest.raises(Invalid):
        services.partner_update(
            actor=channel_org.mgr_a,
            obj=partner,
            data={"credit_limit": -0.01},
            version=partner.version,
        )


def test_a_stale_edit_is_refused_with_409(channel_org):
    partner = channel_org.partner_a
    read_at = partner.version
    services.partner_update(
        actor=channel_org.mgr_a, obj=partner, data={"phone": "0571-1"}, version=read_at
    )
    with pytest.raises(Conflict):
        services.partner_update(
            actor=channel_org.mgr_a,
            obj=partner,
            data={"phone": "0571-2"},
            version=read_at,
        )
    partner.refresh_from_db()
    assert partner.phone == "0571-1"
    assert partner.version == read_at + 1


def test_a_parent_may_not_make_a_cycle(channel_org):
    a, a2 = channel_org.partner_a, channel_org.partner_a2  # a2 buys from a
    with pytest.raises(Invalid) as exc:
        services.partner_update(
            actor=channel_org.mgr_a, obj=a, data={"parent": a2}, version=a.version
        )
    assert "parent" in exc.value.fields
    with pytest.raises(Invalid):
        services.partner_update(
            actor=channel_org.mgr_a, obj=a, data={"parent": a}, version=a.version
        )
    a.refresh_from_db()
    assert a.parent_id is None


def test_moving_a_partner_moves_its_subtree(channel_org):
    a, a2 = channel_org.partner_a, channel_org.partner_a2
    b = services.partner_create(actor=channel_org.mgr_a, data={"name": "新上级"})
    services.partner_update(
        actor=channel_org.mgr_a, obj=a, data={"parent": b}, version=a.version
    )
    a.refresh_from_db()
    a2.refresh_from_db()
    assert a.parent == b
    assert a.path == f"/{b.pk}/{a.pk}/"
    assert a2.path == f"/{b.pk}/{a.pk}/{a2.pk}/"


def test_a_parent_outside_the_scope_is_refused(channel_org):
    with pytest.raises(Invalid) as exc:
        services.partner_create(
            actor=channel_org.mgr_a,
            data={"name": "越权", "parent": channel_org.partner_c},
        )
    assert "parent" in exc.value.fields


def test_creating_a_partner_needs_the_permission(channel_org):
    with pytest.raises(Forbidden):
        services.partner_create(actor=channel_org.rep_a, data={"name": "无权"})


# Territories


def add(partner, code, start, end=None, exclusive=True, actor=None):
    return services.territory_add(
        actor=actor or partner.owner,
        partner=partner,
        data={
            "region": region(code),
            "starts_on": d(start),
            "ends_on": d(end) if end else None,
            "exclusive": exclusive,
        },
    )


def test_the_same_exclusive_region_for_overlapping_periods_is_refused(channel_org):
    add(channel_org.partner_a, HANGZHOU, "2026-01-01", "2026-12-31")
    with pytest.raises(Conflict) as exc, translation.override("en"):
        add(channel_org.partner_c, HANGZHOU, "2026-12-31", "2027-06-30")
    assert exc.value.message == (
        "杭州恒通机械有限公司 holds 浙江省 杭州市 exclusively from 2026-01-01 until "
        "2026-12-31: exclusive territories of two partners may not overlap."
    )
    assert exc.value.status == 409
    assert not Territory.objects.filter(partner=channel_org.partner_c).exists()


def test_a_province_clashes_with_a_city_inside_it_both_ways(channel_org):
    add(channel_org.partner_a, HANGZHOU, "2026-01-01", "2026-12-31")
    with pytest.raises(Conflict):
        add(channel_org.partner_c, ZHEJIANG, "2026-06-01", "2026-06-30")
    add(channel_org.partner_c, GUANGDONG, "2026-01-01")
    with pytest.raises(Conflict) as exc, translation.override("en"):
        add(channel_org.partner_a, GUANGZHOU, "2030-01-01")
    assert "广州粤达机械设备有限公司 holds 广东省" in exc.value.message
    assert "until open-ended" in exc.value.message


def test_neighbouring_cities_do_not_clash(channel_org):
    add(channel_org.partner_a, HANGZHOU, "2026-01-01")
    add(channel_org.partner_c, NINGBO, "2026-01-01")
    assert Territory.objects.count() == 2


def test_disjoint_periods_are_allowed(channel_org):
    add(channel_org.partner_a, HANGZHOU, "2026-01-01", "2026-06-30")
    add(channel_org.partner_c, HANGZHOU, "2026-07-01", "2026-12-31")
    add(channel_org.partner_a2, ZHEJIANG, "2025-01-01", "2025-12-31")
    assert Territory.objects.count() == 3


def test_an_open_ended_territory_blocks_every_later_period(channel_org):
    add(channel_org.partner_a, HANGZHOU, "2026-01-01")
    with pytest.raises(Conflict):
        add(channel_org.partner_c, HANGZHOU, "2040-01-01", "2040-01-31")
    # An open-ended new one clashes with a closed one that ends after it starts.
    add(channel_org.partner_a, NINGBO, "2026-01-01", "2026-03-31")
    with pytest.raises(Conflict):
        add(channel_org.partner_c, NINGBO, "2026-03-31")
    add(channel_org.partner_c, NINGBO, "2026-04-01")


def test_non_exclusive_territories_may_overlap(channel_org):
    add(channel_org.partner_a, HANGZHOU, "2026-01-01")
    add(channel_org.partner_c, HANGZHOU, "2026-01-01", exclusive=False)
    add(channel_org.partner_c, ZHEJIANG, "2026-01-01", exclusive=False)
    assert Territory.objects.filter(partner=channel_org.partner_c).count() == 2


def test_the_same_partner_may_extend_its_own_territory(channel_org):
    a = channel_org.partner_a
    first = add(a, HANGZHOU, "2026-01-01", "2026-06-30")
    add(a, HANGZHOU, "2026-06-01", "2026-12-31")
    add(a, ZHEJIANG, "2026-03-01")
    ended = services.territory_end(
        actor=channel_org.mgr_a, territory=first, ends_on=d("2027-12-31")
    )
    assert ended.ends_on == d("2027-12-31")


def test_extending_into_another_partners_period_is_refused(channel_org):
    mine = add(channel_org.partner_a, HANGZHOU, "2026-01-01", "2026-06-30")
    add(channel_org.partner_c, HANGZHOU, "2026-07-01", "2026-12-31")
    with pytest.raises(Conflict):
        services.territory_end(
            actor=channel_org.mgr_a, territory=mine, ends_on=d("2026-07-01")
        )
    with pytest.raises(Conflict):
        services.territory_end(actor=channel_org.mgr_a, territory=mine, ends_on=None)
    mine.refresh_from_db()
    assert mine.ends_on == d("2026-06-30")
    services.territory_end(
        actor=channel_org.mgr_a, territory=mine, ends_on=d("2026-03-31")
    )
    mine.refresh_from_db()
    assert mine.ends_on == d("2026-03-31")


def test_an_end_before_the_start_is_refused(channel_org):
    with pytest.raises(Invalid) as exc:
        add(channel_org.partner_a, HANGZHOU, "2026-05-01", "2026-04-30")
    assert "ends_on" in exc.value.fields


def test_a_partner_outside_the_scope_gets_no_territory(channel_org):
    with pytest.raises(NotFound):
        add(channel_org.partner_c, HANGZHOU, "2026-01-01", actor=channel_org.mgr_a)


def test_removing_a_territory_needs_the_delete_permission(channel_org):
    territory = add(channel_org.partner_a, HANGZHOU, "2026-01-01")
    pk = territory.pk
    with pytest.raises(Forbidden):
        services.territory_remove(actor=channel_org.mgr_a, territory=territory)
    services.territory_remove(actor=channel_org.admin, territory=territory)
    assert not Territory.objects.exists()
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.DELETE, object_id=str(pk)
    ).exists()


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks need PostgreSQL"
)
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_exclusive_territories_cannot_both_win(channel_org):
    """The first transaction holds the province lock; the second waits, then sees the
    first's territory (here: the city inside the province) and is refused."""
    first_holds = threading.Event()
    release = threading.Event()
    outcome = {}
    a = Partner.objects.get(pk=channel_org.partner_a.pk)
    c = Partner.objects.get(pk=channel_org.partner_c.pk)

    def first():
        try:
            with transaction.atomic():
                add(a, ZHEJIANG, "2026-01-01")
                first_holds.set()
                release.wait(10)
            outcome["first"] = "ok"
        finally:
            connection.close()

    def second():
        try:
            first_holds.wait(10)
            try:
                add(c, HANGZHOU, "2026-06-01", "2026-06-30")
                outcome["second"] = "ok"
            except Conflict:
                outcome["second"] = "refused"
        finally:
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    first_holds.wait(10)
    threads[1].join(0.5)
    assert threads[1].is_alive()  # waiting on the province row
    release.set()
    for t in threads:
        t.join(10)
    assert outcome == {"first": "ok", "second": "refused"}
    assert list(Territory.objects.values_list("partner_id", flat=True)) == [a.pk]
