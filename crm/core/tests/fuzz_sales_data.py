"""Customers and sales records for the API fuzz test (test_api_fuzz.py), so generated
ids land on real records: every sales resource has records of the rep (inside their
own scope) and of other employees (outside it), in the states its actions act on
(draft, pending approval, approved, sent, accepted, active, confirmed, posted, voided,
open and closed periods…).

Rows are written straight into the tables, as the services would have left them
(numbered, priced with crm.sales.pricing, plans adding up to the totals, received
amounts equal to the posted receipts): the fixture runs for every operation and user,
so it must stay cheap, and it must not depend on the services it fuzzes."""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.files.base import ContentFile
from django.utils import timezone

from crm.customers.models import Activity, PoolEntry
from crm.customers.tests.factories import ContactFactory, CustomerFactory
from crm.sales.models import (
    AssignmentRule,
    CommissionLine,
    CommissionPeriod,
    CommissionRule,
    Competitor,
    Contract,
    ContractAttachment,
    ContractLine,
    Instalment,
    Lead,
    LeadFollowUp,
    Opportunity,
    OpportunityProduct,
    Payment,
    Quote,
    QuoteLine,
    SalesOrder,
    SalesOrderLine,
    SalesTarget,
    Stage,
    StageChange,
)
from crm.sales.pricing import apply_line_amounts, document_totals

# A PDF small enough to be cheap, real enough for the attachment download.
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@dataclass
class _Numbers:
    """Document numbers that cannot collide with the sequences' (BJ000001…)."""

    counts: dict = field(default_factory=dict)

    def __call__(self, prefix: str) -> str:
        self.counts[prefix] = self.counts.get(prefix, 0) + 1
        return f"FZ{prefix}{self.counts[prefix]:04d}"


def _owned(owner) -> dict:
    return {"owner": owner, "department": owner.department}


def _lines(line_model, link: dict, lines) -> list:
    """Unsaved lines [(product, quantity, unit price, discount %)] at 13% tax."""
    return [
        line_model(
            **link,
            product=product,
            quantity=Decimal(quantity),
            unit_price=Decimal(price),
            discount_percent=Decimal(discount),
            tax_rate=Decimal("13"),
            sort_order=index,
        )
        for index, (product, quantity, price, discount) in enumerate(lines)
    ]


def _priced(document, lines: list, kind: str) -> None:
    """Price and save the lines, and the document's totals from them."""
    for line in lines:
        apply_line_amounts(line, kind)
    type(lines[0]).objects.bulk_create(lines)
    totals = document_totals(lines)
    document.amount, document.tax_amount, document.total = (
        totals.amount,
        totals.tax_amount,
        totals.total,
    )
    document.save(update_fields=["amount", "tax_amount", "total"])


def _plan(document, parts: int, *, first_due: datetime.date, is_open: bool):
    """`parts` instalments adding up to the document's total, a month apart."""
    link = "contract" if isinstance(document, Contract) else "order"
    share = (document.total / parts).quantize(Decimal("0.01"))
    amounts = [share] * (parts - 1) + [document.total - share * (parts - 1)]
    return Instalment.objects.bulk_create(
        Instalment(
            **{link: document},
            customer=document.customer,
            owner=document.owner,
            department=document.department,
            sequence=number,
            due_on=first_due + datetime.timedelta(days=30 * (number - 1)),
            amount=amount,
            is_open=is_open,
        )
        for number, amount in enumerate(amounts, start=1)
    )


def _receipt(number, instalment, amount, received_on, recorder, *, voided=False):
    """A receipt; a posted one is added to its instalment's received amount."""
    amount = Decimal(amount)
    payment = Payment.objects.create(
        number=number("SK"),
        instalment=instalment,
        customer=instalment.customer,
        owner=instalment.owner,
        department=instalment.department,
        amount=amount,
        received_on=received_on,
        recorded_by=recorder,
        **(
            {
                "status": Payment.Status.VOIDED,
                "voided_by": recorder,
                "voided_at": timezone.now(),
                "void_reason": "录错金额",
            }
            if voided
            else {}
        ),
    )
    if not voided:
        instalment.received += amount
        instalment.save(update_fields=["received"])
    return payment


def build_customers(rep, other):
    """Customers (two of the rep's, one of another employee's, one in the public
    pool), their contacts and follow-up activities."""
    mine = CustomerFactory(owner=rep, name="杭州西湖机械有限公司")
    # A credit limit a confirmed order can exceed (409 with the numbers).
    tight = CustomerFactory(
        owner=rep, name="宁波港务工程有限公司", credit_limit=Decimal("5000")
    )
    theirs = CustomerFactory(owner=other, name="苏州工业园区建设有限公司")
    pooled = CustomerFactory(owner=None, name="无锡公海客户有限公司")
    PoolEntry.objects.create(
        customer=pooled, reason=PoolEntry.Reason.RELEASED, former_owner=rep
    )
    contacts = {
        customer.pk: ContactFactory(customer=customer, name=name, is_primary=True)
        for customer, name in (
            (mine, "赵敏"),
            (tight, "钱伟"),
            (theirs, "孙丽"),
            (pooled, "李强"),
        )
    }
    ContactFactory(customer=mine, name="周杰", supervisor=contacts[mine.pk])
    Activity.objects.bulk_create(
        Activity(
            customer=customer,
            contact=contacts[customer.pk],
            kind=Activity.Kind.VISIT,
            content="介绍新款挖掘机",
            next_follow_up_on=timezone.localdate() + datetime.timedelta(days=7),
            recorded_by=customer.owner or rep,
        )
        for customer in (mine, theirs, pooled)
    )
    return mine, tight, theirs, contacts


def build_sales(*, rep, other, admin, products, price_list, category, role):
    """Every sales resource in several states, for `rep` and for `other` (whom the rep
    does not see). `products` are the rep's two products and another owner's."""
    number = _Numbers()
    today = timezone.localdate()
    now = timezone.now()
    mine, tight, theirs, contacts = build_customers(rep, other)
    rep_product, rep_product2, other_product = products

    # Leads (S1) and their assignment rule.
    AssignmentRule.objects.create(
        name="华东轮流", department=rep.department, include_subdepartments=True
    )
    leads = {}
    for key, owner, status in (
        ("new", rep, Lead.Status.NEW),
        ("contacted", rep, Lead.Status.CONTACTED),
        ("qualified", rep, Lead.Status.QUALIFIED),
        ("disqualified", rep, Lead.Status.DISQUALIFIED),
        ("other", other, Lead.Status.NEW),
    ):
        leads[key] = Lead.objects.create(
            number=number("XS"),
            name=f"线索{key}",
            company="杭州西湖机械有限公司" if key == "new" else f"{key}贸易公司",
            mobile="13900001111",
            source=Lead.Source.WEB_FORM,
            status=status,
            disqualify_reason="无预算" if key == "disqualified" else "",
            **_owned(owner),
        )
    LeadFollowUp.objects.bulk_create(
        LeadFollowUp(
            lead=lead, kind="call", content="电话沟通需求", recorded_by=lead.owner
        )
        for lead in (leads["contacted"], leads["other"])
    )

    # Opportunities (S2): open ones with products and competitors, a won one.
    stages = list(Stage.objects.filter(is_active=True).order_by("sort_order", "pk"))
    first_open = next(s for s in stages if s.kind == Stage.Kind.OPEN)
    last_open = [s for s in stages if s.kind == Stage.Kind.OPEN][-1]
    won = next(s for s in stages if s.kind == Stage.Kind.WON)
    rival = Competitor.objects.create(name="三一重工", strengths="价格低")
    Competitor.objects.create(name="徐工机械", is_active=False)
    opportunities = {}
    for key, owner, customer, stage, product in (
        ("open", rep, mine, first_open, rep_product),
        ("late", rep, tight, last_open, rep_product2),
        ("won", rep, mine, won, rep_product),
        ("other", other, theirs, first_open, other_product),
    ):
        opportunity = Opportunity.objects.create(
            number=number("SJ"),
            name=f"挖掘机采购 {key}",
            customer=customer,
            contact=contacts[customer.pk],
            stage=stage,
            status=stage.kind,
            amount=Decimal("2000.00"),
            expected_close_on=today + datetime.timedelta(days=30),
            stage_changed_at=now,
            **(
                {"closed_at": now, "close_reason": "价格合适"}
                if stage.kind == Stage.Kind.WON
                else {}
            ),
            **_owned(owner),
        )
        opportunity.competitors.add(rival)
        OpportunityProduct.objects.create(
            opportunity=opportunity,
            product=product,
            quantity=Decimal("2"),
            unit_price=Decimal("1000.00"),
        )
        StageChange.objects.create(
            opportunity=opportunity, to_stage=first_open, changed_by=owner
        )
        if stage != first_open:
            StageChange.objects.create(
                opportunity=opportunity,
                from_stage=first_open,
                to_stage=stage,
                changed_by=owner,
            )
        opportunities[key] = opportunity
    leads["converted"] = Lead.objects.create(
        number=number("XS"),
        name="线索converted",
        company=mine.name,
        status=Lead.Status.CONVERTED,
        converted_at=now,
        converted_by=rep,
        customer=mine,
        contact=contacts[mine.pk],
        opportunity=opportunities["won"],
        **_owned(rep),
    )

    # Quotes (S3): every state an action starts from; one line of the pending quote
    # is discounted beyond the approval threshold.
    quotes = {}
    for key, owner, customer, status, product, discount in (
        ("draft", rep, mine, Quote.Status.DRAFT, rep_product, "0"),
        ("rejected", rep, mine, Quote.Status.REJECTED, rep_product, "30"),
        ("pending", rep, tight, Quote.Status.PENDING_APPROVAL, rep_product, "30"),
        ("approved", rep, mine, Quote.Status.APPROVED, rep_product2, "5"),
        ("sent", rep, mine, Quote.Status.SENT, rep_product, "0"),
        ("accepted", rep, mine, Quote.Status.ACCEPTED, rep_product2, "0"),
        ("other_draft", other, theirs, Quote.Status.DRAFT, other_product, "0"),
        ("other_sent", other, theirs, Quote.Status.SENT, other_product, "0"),
    ):
        submitted = status != Quote.Status.DRAFT
        decided = status not in (Quote.Status.DRAFT, Quote.Status.PENDING_APPROVAL)
        quote = Quote.objects.create(
            number=number("BJ"),
            title=f"挖掘机报价 {key}",
            customer=customer,
            contact=contacts[customer.pk],
            opportunity=opportunities["open" if owner == rep else "other"],
            price_list=price_list if owner == rep else None,
            status=status,
            quoted_on=today,
            valid_until=today + datetime.timedelta(days=30),
            submitted_at=now if submitted else None,
            submitted_by=owner if submitted else None,
            decided_by=admin if decided else None,
            decided_at=now if decided else None,
            decision_note="折扣过高" if status == Quote.Status.REJECTED else "",
            **_owned(owner),
        )
        lines = [
            (product, "2", product.list_price, discount),
            (product, "1", "500", "0"),
        ]
        _priced(quote, _lines(QuoteLine, {"quote": quote}, lines), "quote")
        quotes[key] = quote

    # Contracts (S4) with lines and payment plans; the active ones are receivables.
    contracts = {}
    for key, owner, customer, status, product in (
        ("draft", rep, mine, Contract.Status.DRAFT, rep_product),
        ("pending", rep, mine, Contract.Status.PENDING_APPROVAL, rep_product2),
        ("active", rep, mine, Contract.Status.ACTIVE, rep_product),
        ("other_draft", other, theirs, Contract.Status.DRAFT, other_product),
        ("other_active", other, theirs, Contract.Status.ACTIVE, other_product),
    ):
        active = status == Contract.Status.ACTIVE
        contract = Contract.objects.create(
            number=number("HT"),
            title=f"挖掘机采购合同 {key}",
            customer=customer,
            contact=contacts[customer.pk],
            quote=quotes["accepted"] if key == "draft" else None,
            opportunity=opportunities["won"] if key == "active" else None,
            status=status,
            signed_on=today - datetime.timedelta(days=40) if active else None,
            start_on=today - datetime.timedelta(days=40),
            end_on=today + datetime.timedelta(days=365),
            submitted_at=now if status != Contract.Status.DRAFT else None,
            submitted_by=owner if status != Contract.Status.DRAFT else None,
            approved_by=admin if active else None,
            approved_at=now if active else None,
            **_owned(owner),
        )
        lines = [(product, "10", "1000.00", "0"), (product, "2", "300.00", "10")]
        _priced(
            contract, _lines(ContractLine, {"contract": contract}, lines), "contract"
        )
        _plan(
            contract,
            2,
            first_due=today - datetime.timedelta(days=35),
            is_open=active,
        )
        contracts[key] = contract
    for contract in (contracts["draft"], contracts["other_active"]):
        attachment = ContractAttachment(
            contract=contract,
            name="合同扫描件.pdf",
            content_type="application/pdf",
            size=len(PDF),
            uploaded_by=contract.owner,
        )
        attachment.file.save("fuzz.pdf", ContentFile(PDF), save=False)
        attachment.save()

    # Sales orders (S5): direct drafts, a confirmed direct order (a receivable), a
    # draft called off the active contract, and another employee's.
    orders = {}
    for key, owner, customer, status, product, contract in (
        ("draft", rep, mine, SalesOrder.Status.DRAFT, rep_product, None),
        ("over_credit", rep, tight, SalesOrder.Status.DRAFT, rep_product2, None),
        ("confirmed", rep, mine, SalesOrder.Status.CONFIRMED, rep_product, None),
        ("called_off", rep, mine, SalesOrder.Status.DRAFT, rep_product, "active"),
        ("other_draft", other, theirs, SalesOrder.Status.DRAFT, other_product, None),
        (
            "other_confirmed",
            other,
            theirs,
            SalesOrder.Status.CONFIRMED,
            other_product,
            None,
        ),
    ):
        order = SalesOrder.objects.create(
            number=number("DD"),
            customer=customer,
            contact=contacts[customer.pk],
            contract=contracts[contract] if contract else None,
            status=status,
            ordered_on=today - datetime.timedelta(days=10),
            delivery_due_on=today + datetime.timedelta(days=20),
            shipping_address="浙江省杭州市西湖区文三路1号",
            confirmed_at=now if status == SalesOrder.Status.CONFIRMED else None,
            **_owned(owner),
        )
        if contract:
            # Called off the contract: one of each contract line.
            lines = []
            for line in contracts[contract].lines.all():
                made = _lines(
                    SalesOrderLine,
                    {"order": order, "contract_line": line},
                    [(line.product, "1", line.unit_price, line.discount_percent)],
                )[0]
                made.sort_order = line.sort_order
                lines.append(made)
        else:
            lines = _lines(
                SalesOrderLine,
                {"order": order},
                [(product, "3", "1000.00", "0"), (product, "2", "400.00", "0")],
            )
        _priced(order, lines, "order")
        if status == SalesOrder.Status.CONFIRMED:
            _plan(order, 1, first_due=today + datetime.timedelta(days=30), is_open=True)
        orders[key] = order

    # Receipts (S6) and commissions (S7): a posted receipt this month and one last
    # month (inside the closed period: it cannot be voided), a voided one, and
    # another employee's.
    month_start = today.replace(day=1)
    last_month_end = month_start - datetime.timedelta(days=1)
    rep_instalment = contracts["active"].instalments.order_by("sequence").first()
    order_instalment = orders["confirmed"].instalments.get()
    other_instalment = contracts["other_active"].instalments.order_by("sequence")[0]
    posted = _receipt(number, rep_instalment, "1000.00", today, rep)
    _receipt(number, rep_instalment, "500.00", last_month_end, rep)
    _receipt(number, order_instalment, "200.00", today, rep, voided=True)
    theirs_posted = _receipt(number, other_instalment, "800.00", today, other)

    rules = CommissionRule.objects.bulk_create(
        [
            CommissionRule(name="默认提成", rate=Decimal("1.5")),
            CommissionRule(name="刘一提成", employee=rep, rate=Decimal("3")),
            CommissionRule(
                name="销售代表整机", role=role, category=category, rate=Decimal("2")
            ),
            CommissionRule(name="停用规则", rate=Decimal("9"), is_active=False),
        ]
    )
    open_period = CommissionPeriod.objects.create(
        name=f"{today:%Y-%m}",
        start_on=month_start,
        end_on=(month_start + datetime.timedelta(days=32)).replace(day=1)
        - datetime.timedelta(days=1),
        computed_at=now,
    )
    CommissionPeriod.objects.create(
        name=f"{last_month_end:%Y-%m}",
        start_on=last_month_end.replace(day=1),
        end_on=last_month_end,
        status=CommissionPeriod.Status.CLOSED,
        computed_at=now,
        closed_by=admin,
        closed_at=now,
    )
    CommissionLine.objects.bulk_create(
        CommissionLine(
            period=open_period,
            employee=payment.owner,
            department=payment.department,
            payment=payment,
            rule=rule,
            category=category,
            base_amount=payment.amount,
            rate=rule.rate,
            amount=(payment.amount * rule.rate / 100).quantize(Decimal("0.01")),
        )
        for payment, rule in ((posted, rules[1]), (theirs_posted, rules[0]))
    )

    # Sales targets (S8): the rep's, another employee's and departments'.
    SalesTarget.objects.bulk_create(
        SalesTarget(
            period_type=period_type,
            year=today.year,
            period=period,
            owner=owner,
            department=department,
            order_target=Decimal("100000"),
            collection_target=Decimal("80000"),
        )
        for period_type, period, owner, department in (
            ("month", today.month, rep, rep.department),
            ("year", 1, rep, rep.department),
            ("month", today.month, other, other.department),
            ("quarter", (today.month - 1) // 3 + 1, None, rep.department),
            ("year", 1, None, admin.department),
        )
    )


__all__ = ["build_sales"]
