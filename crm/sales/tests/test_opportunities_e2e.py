"""The pipeline board in headless Chromium: it renders the rep's deals only, and a card
dragged onto another column moves the opportunity and updates both columns' totals.

Needs Chromium at /usr/bin/chromium (or CRM_CHROMIUM); without it the test fails."""

import os
from pathlib import Path

import pytest
from django.urls import reverse

from crm.sales.models import Opportunity, Stage
from crm.sales.tests.opportunities_support import make_deal

CHROMIUM = Path(os.environ.get("CRM_CHROMIUM", "/usr/bin/chromium"))
PASSWORD = "Pass-word-2026"  # UserFactory's password
DEFAULT_STAGES = [  # as migration 0002 creates them (a flushed database lost them)
    ("初步接洽", 10, "open"),
    ("需求确认", 25, "open"),
    ("方案报价", 50, "open"),
    ("商务谈判", 75, "open"),
    ("赢单", 100, "won"),
    ("输单", 0, "lost"),
]


@pytest.fixture
def pipeline_stages(db):
    if not Stage.objects.exists():
        for order, (name, probability, kind) in enumerate(DEFAULT_STAGES, start=1):
            Stage.objects.create(
                name=name, probability=probability, kind=kind, sort_order=order * 10
            )
    return list(Stage.objects.filter(kind="open", is_active=True))


@pytest.fixture
def browser_page(monkeypatch):
    """A Chromium page; request it after the fixtures that write to the database."""
    if not CHROMIUM.exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: the e2e tests need it.")
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"]
        )
        context = browser.new_context(
            locale="zh-CN", viewport={"width": 1400, "height": 900}
        )
        context.set_default_timeout(15_000)
        yield context.new_page()
        context.close()
        browser.close()


@pytest.mark.e2e
def test_drag_a_card_to_the_next_stage(
    sales_org, pipeline_stages, live_server, browser_page, tmp_path
):
    first, second = pipeline_stages[:2]
    deal = make_deal(sales_org.rep_a, stage=first, amount="40000", name="拖动的商机")
    make_deal(sales_org.rep_a, stage=first, amount="1000", name="留下的商机")
    make_deal(sales_org.rep_c, stage=first, amount="5", name="别人的商机")
    page, base = browser_page, live_server.url
    page.goto(base + reverse("login"))
    page.fill("#id_username", sales_org.rep_a.username)
    page.fill("#id_password", PASSWORD)
    page.press("#id_password", "Enter")
    page.wait_for_load_state("load")

    page.goto(base + reverse("sales:pipeline"))
    source, target = (
        page.locator(f"#stage-{first.pk}"),
        page.locator(f"#stage-{second.pk}"),
    )
    assert page.locator(".pipeline-column").count() == len(pipeline_stages)
    assert source.locator("[data-total=count]").inner_text() == "2"
    assert source.locator("[data-total=amount]").inner_text() == "41,000.00"
    assert target.locator("[data-total=count]").inner_text() == "0"
    assert page.get_by_text("别人的商机").count() == 0

    card = source.locator(f".pipeline-card[data-id='{deal.pk}']")
    card.drag_to(target.locator(".pipeline-cards"))
    page.wait_for_selector("#board-message")
    page.screenshot(path=str(tmp_path / "pipeline.png"))
    assert "拖动的商机" in page.locator("#board-message").inner_text()
    assert target.locator("[data-total=count]").inner_text() == "1"
    assert target.locator("[data-total=amount]").inner_text() == "40,000.00"
    assert target.locator("[data-total=weighted]").inner_text() == "10,000.00"
    assert source.locator("[data-total=count]").inner_text() == "1"
    assert target.locator(f".pipeline-card[data-id='{deal.pk}']").count() == 1
    deal.refresh_from_db()
    assert deal.stage == second
    assert Opportunity.objects.get(name="留下的商机").stage == first
