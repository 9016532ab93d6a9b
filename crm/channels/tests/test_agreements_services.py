"""D2 agreement rules: drafts and versions, the rebate/penalty table, activation and
its overlap rule, termination, renewal, every change audited."""

import datetime
from decimal import Decimal

import pytest
from django.utils import translation

from crm.channels.models import Agreement, AgreementTerm, Partner
from crm.channels.selectors.agreements import agreement_in_force
from crm.channels.services import agreements as services
from crm.channels.tests.agreements_fixtures import make_agreement
from crm.core.errors import Conflict, Forbidden, Invalid, NotFound
from crm.core.models import AuditEvent
from crm.customers.models import Region

D = datetime.date
S = Agreement.Status


def events(agreement) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(object_id=str(agreement.pk))
        .filter(content_type__model="agreement")
        .order_by("id")
    )


def new_draft(org, **data):
    values = {
        "partner": org.partner_a,
        "title": "2026 年度经销协议",
        "starts_on": D(2026, 1, 1),
        "ends_on": D(2026, 12, 31),
        **data,
    }
    return services.agreement_create(actor=org.mgr_a, data=values)


def test_create_numbers_from_the_sequence_and_belongs_to_the_channel_manager(
    channel_org,
):
    org = channel_org
    hangzhou = Region.objects.get(code="330100")
    first = new_draft(
        org,
        price_list=org.catalogue.price_list,
        discount_percent=Decimal("5"),
        annual_target=Decimal("5000000"),
        territory=[hangzhou],
        categories=[org.catalogue.excavators],
    )
    second = new_draft(org, partner=org.partner_a2)
    assert (first.number, second.number) == ("XY000001", "XY000002")
    assert first.status == S.DRAFT
    assert first.version == 1
    assert first.owner == org.mgr_a
    assert first.department == org.east
    assert list(first.territory.all()) == [hangzhou]
    (created,) = events(first)
    assert created.action == "create"
    assert created.actor == org.mgr_a
    assert created.changes["territory"] == [None, [str(hangzhou)]]
    assert created.changes["discount_percent"][1] == "5.0000"


def test_create_refuses_bad_input_naming_the_field(channel_org):
    org = channel_org
    with translation.override("en"):
        with pytest.raises(Invalid) as bad_dates:
            new_draft(org, starts_on=D(2026, 6, 1), ends_on=D(2026, 5, 31))
        assert bad_dates.value.fields == {
            "ends_on": ["The end date is before the start date."]
        }
        with pytest.raises(Invalid) as bad_discount:
            new_draft(org, discount_percent=Decimal("101"), title=" ")
        assert set(bad_discount.value.fields) == {"discount_percent", "title"}
        # partner_c is mgr_c's: not within mgr_a's scope.
        with pytest.raises(Invalid) as other:
            new_draft(org, partner=org.partner_c)
        assert other.value.fields == {
            "partner": ["No such partner within your data scope."]
        }


def test_only_a_draft_is_edited_and_a_stale_version_is_refused(channel_org):
    org = channel_org
    draft = new_draft(org)
    hangzhou = Region.objects.get(code="330100")
    edited = services.agreement_update(
        actor=org.mgr_a,
        obj=draft,
        data={"title": "2026 年度经销协议（修订）", "territory": [hangzhou]},
        version=1,
    )
    assert edited.version == 2
    assert edited.title == "2026 年度经销协议（修订）"
    update = events(draft)[-1]
    assert update.changes["title"] == ["2026 年度经销协议", "2026 年度经销协议（修订）"]
    assert update.changes["territory"] == [[], [str(hangzhou)]]
    with pytest.raises(Conflict):  # someone read version 1 before the edit
        services.agreement_update(
            actor=org.mgr_a, obj=draft, data={"title": "x"}, version=1
        )
    services.agreement_activate(actor=org.mgr_a, agreement=draft)
    with pytest.raises(Conflict):
        services.agreement_update(
            actor=org.mgr_a, obj=draft, data={"title": "x"}, version=3
        )


def test_rules_thresholds_are_unique_per_kind(english, channel_org):
    org = channel_org
    draft = new_draft(org)

    def add(**data):
        return services.agreement_rule_add(actor=org.mgr_a, agreement=draft, data=data)

    add(kind="rebate", threshold_percent=Decimal("100"), percent=Decimal("2"))
    add(kind="rebate", threshold_percent=Decimal("120"), percent=Decimal("3.5"))
    fine = add(kind="penalty", threshold_percent=Decimal("60"), amount=Decimal("5000"))
    # The same threshold in the other kind is fine.
    add(kind="penalty", threshold_percent=Decimal("100"), amount=Decimal("1000"))
    with translation.override("en"), pytest.raises(Invalid) as clash:
        add(kind="rebate", threshold_percent=Decimal("100.00"), percent=Decimal("1"))
    assert clash.value.fields["threshold_percent"] == [
        "This agreement already has a rebate at 100%."
    ]
    with pytest.raises(Invalid) as no_fine:
        add(kind="penalty", threshold_percent=Decimal("50"), amount=Decimal("0"))
    assert set(no_fine.value.fields) == {"amount"}
    with pytest.raises(Invalid) as no_rebate:
        add(kind="rebate", threshold_percent=Decimal("80"), percent=Decimal("0"))
    assert set(no_rebate.value.fields) == {"percent"}
    with pytest.raises(Invalid):  # moving the 60% penalty onto the 100% one
        services.agreement_rule_update(
            actor=org.mgr_a, rule=fine, data={"threshold_percent": Decimal("100")}
        )
    services.agreement_rule_update(
        actor=org.mgr_a, rule=fine, data={"amount": Decimal("8000")}
    )
    fine.refresh_from_db()
    assert fine.amount == Decimal("8000")
    rows = list(
        draft.rules.values_list("kind", "threshold_percent", "percent", "amount")
    )
    assert rows == [
        ("penalty", Decimal("60"), Decimal("0"), Decimal("8000")),
        ("penalty", Decimal("100"), Decimal("0"), Decimal("1000")),
        ("rebate", Decimal("100"), Decimal("2"), Decimal("0")),
        ("rebate", Decimal("120"), Decimal("3.5"), Decimal("0")),
    ]
    draft.refresh_from_db()
    assert draft.version == 6  # four additions and one change
    assert events(draft)[-1].changes["rules"] == [
        "Penalty <60%: 5000.00",
        "Penalty <60%: 8000.00",
    ]
    services.agreement_rule_remove(actor=org.mgr_a, rule=fine)
    assert draft.rules.count() == 3
    services.agreement_activate(actor=org.mgr_a, agreement=draft)
    with pytest.raises(Conflict):  # rules of an agreement in force stay as signed
        add(kind="rebate", threshold_percent=Decimal("150"), percent=Decimal("5"))


def test_activation_refuses_an_overlapping_agreement_naming_it(channel_org):
    org = channel_org
    current = make_agreement(
        org.partner_a,
        number="XY000900",
        starts_on=D(2026, 1, 1),
        ends_on=D(2026, 6, 30),
    )
    overlapping = new_draft(org, starts_on=D(2026, 6, 30), ends_on=D(2027, 6, 29))
    with translation.override("en"), pytest.raises(Conflict) as refused:
        services.agreement_activate(actor=org.mgr_a, agreement=overlapping)
    assert "XY000900 (2026-01-01 – 2026-06-30)" in refused.value.message
    overlapping.refresh_from_db()
    assert overlapping.status == S.DRAFT
    # The day after the other one ends is fine; so is another partner's period.
    after = new_draft(org, starts_on=D(2026, 7, 1), ends_on=D(2027, 6, 30))
    services.agreement_activate(actor=org.mgr_a, agreement=after)
    other_partner = new_draft(org, partner=org.partner_a2)
    services.agreement_activate(actor=org.mgr_a, agreement=other_partner)
    # A terminated (or expired) agreement no longer blocks the period.
    services.agreement_terminate(actor=org.mgr_a, agreement=current, reason="重签")
    services.agreement_activate(
        actor=org.mgr_a,
        agreement=new_draft(org, starts_on=D(2026, 3, 1), ends_on=D(2026, 6, 30)),
    )
    assert agreement_in_force(org.partner_a, D(2026, 7, 1)) == after
    assert [e.action for e in events(after)] == ["create", "activate"]


def test_a_terminated_partner_gets_no_agreement_in_force(channel_org):
    org = channel_org
    draft = new_draft(org)
    Partner.objects.filter(pk=org.partner_a.pk).update(status=Partner.Status.TERMINATED)
    with pytest.raises(Conflict):
        services.agreement_activate(actor=org.mgr_a, agreement=draft)


def test_terminate_needs_a_reason_and_an_agreement_in_force(channel_org):
    org = channel_org
    draft = new_draft(org)
    with pytest.raises(Conflict):
        services.agreement_terminate(actor=org.mgr_a, agreement=draft, reason="x")
    services.agreement_activate(actor=org.mgr_a, agreement=draft)
    with pytest.raises(Invalid) as no_reason:
        services.agreement_terminate(actor=org.mgr_a, agreement=draft, reason=" ")
    assert set(no_reason.value.fields) == {"reason"}
    done = services.agreement_terminate(
        actor=org.mgr_a, agreement=draft, reason="经销商严重违约"
    )
    assert done.status == S.TERMINATED
    assert done.termination_reason == "经销商严重违约"
    last = events(draft)[-1]
    assert last.action == "terminate"
    assert last.note == "经销商严重违约"
    assert last.changes["status"] == ["active", "terminated"]
    assert agreement_in_force(org.partner_a, D(2026, 6, 1)) is None


def test_renewal_copies_everything_for_the_next_period(channel_org):
    org = channel_org
    hangzhou, ningbo = Region.objects.filter(code__in=["330100", "330200"])
    old = new_draft(
        org,
        price_list=org.catalogue.price_list,
        discount_percent=Decimal("7.5"),
        annual_target=Decimal("3000000"),
        terms="季度返利，年底结算",
        territory=[hangzhou, ningbo],
        categories=[org.catalogue.excavators, org.catalogue.parts],
    )
    for kind, threshold, percent, amount in (
        ("rebate", "100", "2", "0"),
        ("rebate", "120", "3", "0"),
        ("penalty", "60", "0", "20000"),
    ):
        services.agreement_rule_add(
            actor=org.mgr_a,
            agreement=old,
            data={
                "kind": kind,
                "threshold_percent": Decimal(threshold),
                "percent": Decimal(percent),
                "amount": Decimal(amount),
                "description": f"{kind} {threshold}",
            },
        )
    services.agreement_activate(actor=org.mgr_a, agreement=old)

    new = services.agreement_renew(actor=org.mgr_a, agreement=old)

    assert new.status == S.DRAFT
    assert new.previous == old
    assert new.number != old.number
    assert (new.starts_on, new.ends_on) == (D(2027, 1, 1), D(2027, 12, 31))
    assert new.partner == old.partner
    assert new.title == old.title
    assert new.price_list == org.catalogue.price_list
    assert new.discount_percent == Decimal("7.5")
    assert new.annual_target == Decimal("3000000")
    assert new.terms == "季度返利，年底结算"
    assert set(new.territory.all()) == {hangzhou, ningbo}
    assert set(new.categories.all()) == {org.catalogue.excavators, org.catalogue.parts}
    assert list(
        new.rules.values_list("kind", "threshold_percent", "percent", "amount")
    ) == [
        ("penalty", Decimal("60"), Decimal("0"), Decimal("20000")),
        ("rebate", Decimal("100"), Decimal("2"), Decimal("0")),
        ("rebate", Decimal("120"), Decimal("3"), Decimal("0")),
    ]
    assert old.rules.count() == 3  # copied, not moved
    (created,) = events(new)
    assert created.action == "create"
    assert created.note == f"renews {old.number}"
    assert created.changes["territory"][1] == sorted([str(hangzhou), str(ningbo)])
    assert events(old)[-1].note == f"renewal {new.number} drafted"
    old.refresh_from_db()
    assert old.status == S.ACTIVE  # renewed only once the renewal is in force
    with pytest.raises(Conflict) as twice:
        services.agreement_renew(actor=org.mgr_a, agreement=old)
    assert new.number in twice.value.message

    services.agreement_activate(actor=org.mgr_a, agreement=new)
    old.refresh_from_db()
    assert old.status == S.RENEWED
    assert events(old)[-1].note == f"renewed by {new.number}"
    # Renewed before its end, the old one stays in force until then; then the new one.
    assert agreement_in_force(org.partner_a, D(2026, 12, 31)) == old
    assert agreement_in_force(org.partner_a, D(2027, 1, 1)) == new
    with pytest.raises(Conflict):  # a renewed agreement is not renewed again
        services.agreement_renew(actor=org.mgr_a, agreement=old)


@pytest.mark.parametrize(
    ("period", "renewal"),
    [
        # Whole months stay whole months, whatever the month lengths.
        ((D(2026, 3, 1), D(2026, 8, 31)), (D(2026, 9, 1), D(2027, 2, 28))),
        ((D(2027, 1, 1), D(2027, 12, 31)), (D(2028, 1, 1), D(2028, 12, 31))),
        ((D(2026, 7, 15), D(2027, 7, 14)), (D(2027, 7, 15), D(2028, 7, 14))),
        # Otherwise the same number of days: 10 days from the 1st to the 10th.
        ((D(2026, 1, 1), D(2026, 1, 10)), (D(2026, 1, 11), D(2026, 1, 20))),
    ],
)
def test_renewal_period_has_the_same_length(channel_org, period, renewal):
    old = make_agreement(
        channel_org.partner_a, starts_on=period[0], ends_on=period[1], status="expired"
    )
    assert services.renewal_period(old) == renewal
    new = services.agreement_renew(actor=channel_org.mgr_a, agreement=old)
    assert (new.starts_on, new.ends_on) == renewal


def test_drafts_and_terminated_agreements_are_not_renewed(channel_org):
    org = channel_org
    draft = new_draft(org)
    with pytest.raises(Conflict):
        services.agreement_renew(actor=org.mgr_a, agreement=draft)
    ended = make_agreement(org.partner_a, status=S.TERMINATED)
    with pytest.raises(Conflict):
        services.agreement_renew(actor=org.mgr_a, agreement=ended)


def test_outside_the_scope_is_not_found_and_permissions_are_needed(channel_org):
    org = channel_org
    theirs = make_agreement(org.partner_c, status=S.DRAFT)
    for call in (
        lambda: services.agreement_activate(actor=org.mgr_a, agreement=theirs),
        lambda: services.agreement_renew(actor=org.mgr_a, agreement=theirs),
        lambda: services.agreement_update(
            actor=org.mgr_a, obj=theirs, data={"title": "x"}, version=1
        ),
        lambda: services.agreement_rule_add(
            actor=org.mgr_a,
            agreement=theirs,
            data={"kind": "rebate", "threshold_percent": 1, "percent": 1},
        ),
    ):
        with pytest.raises(NotFound):
            call()
    with pytest.raises(Forbidden):  # a sales rep has no channel permissions
        services.agreement_activate(actor=org.rep_a, agreement=theirs)
    assert AgreementTerm.objects.count() == 0
    # The department-tree manager of east reaches partner_a's, not partner_c's.
    mine = make_agreement(org.partner_a, status=S.DRAFT)
    services.agreement_activate(actor=org.manager, agreement=mine)
    with pytest.raises(NotFound):
        services.agreement_activate(actor=org.manager, agreement=theirs)
