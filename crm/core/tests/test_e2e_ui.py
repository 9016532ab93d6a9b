"""X1 end to end in headless Chromium: sign in, search a list live, switch language, role editor.

Needs Chromium at /usr/bin/chromium (Debian package `chromium`); without it the test fails
with a message saying so, it is never skipped.
"""

import os
from decimal import Decimal
from pathlib import Path

import pytest
from django.urls import reverse

from crm.core.scopes import DataScope
from crm.core.trees import tree_place
from crm.org.tests.factories import make_role
from crm.products.models import Category, Product

CHROMIUM = Path(os.environ.get("CRM_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "Pass-word-2026"  # UserFactory's password


@pytest.fixture
def browser_page(monkeypatch):
    """A Chromium page whose browser asks for Simplified Chinese first, like our users'.

    Request it after the fixtures that write to the database: Playwright's event loop gives
    the ORM a separate connection in this thread, which nobody would close.
    """
    if not CHROMIUM.exists():
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: the e2e UI tests need it. "
            "Install it with `apt-get install -y chromium` (or set CRM_CHROMIUM)."
        )
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls made by
    # pytest-django's teardown are still synchronous and safe here.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        context = browser.new_context(
            locale="zh-CN", viewport={"width": 1366, "height": 900}
        )
        context.set_default_timeout(15_000)
        page = context.new_page()
        yield page
        context.close()
        browser.close()


@pytest.fixture
def catalogue(org):
    category = Category(name="传感器")
    category.save()
    tree_place(category)
    for code, name in [
        ("E2E-001", "温湿度传感器"),
        ("E2E-002", "压力变送器"),
        ("E2E-003", "光电开关"),
    ]:
        Product.objects.create(
            code=code,
            name=name,
            category=category,
            list_price=Decimal("12345.5"),
            cost=Decimal("100"),
            owner=org.admin,
            department=org.group,
        )
    return make_role(
        "区域经理", "products.view_product", scope=DataScope.DEPARTMENT_TREE
    )


def sign_in(page, base_url, username):
    page.goto(base_url + reverse("login"))
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.press("#id_password", "Enter")
    page.wait_for_url(base_url + "/")


@pytest.mark.e2e
def test_sign_in_search_switch_language_and_edit_a_role(
    org, catalogue, live_server, browser_page
):
    """X1/Y5: the UI is Chinese by default, lists search live, English is one click away."""
    page, base = browser_page, live_server.url

    sign_in(page, base, org.admin.username)
    sidebar = page.locator("#sidebar")
    assert sidebar.get_by_text("产品", exact=True).first.is_visible()
    assert page.locator("#dashboard-cards").get_by_text("产品").first.is_visible()

    # Product list: typing in the search box swaps only the table (htmx), not the page.
    page.goto(base + reverse("products:product-list"))
    rows = page.locator("#list-table tbody tr")
    assert rows.count() == 3
    assert page.locator("#list-table").get_by_text("12,345.50").first.is_visible()
    page.evaluate("window.__samePage = true")
    page.fill("#list-q", "压力")
    page.wait_for_function(
        "document.querySelectorAll('#list-table tbody tr').length === 1"
    )
    assert "E2E-002" in rows.first.inner_text()
    assert page.evaluate("window.__samePage") is True, "the search reloaded the page"
    assert "q=" in page.url, "the search is not kept in the address bar"

    # Language switch: the same page, now in English.
    page.click("button[name=language][value=en]")
    page.wait_for_load_state("load")
    assert page.locator("h1").inner_text().strip() == "Products"
    assert sidebar.get_by_text("Price lists", exact=True).is_visible()
    assert page.get_by_label("Search", exact=True).is_visible()
    assert rows.count() == 1, "the search was lost when switching language"

    # Role editor: every tab opens.
    page.goto(base + reverse("org:role-list"))
    page.locator("#list-table").get_by_role("link", name="区域经理").click()
    page.wait_for_url("**/org/roles/*/")
    assert page.locator("h1").inner_text().strip() == "区域经理"
    view_product = page.get_by_label("View: Product", exact=True)
    assert view_product.is_checked()
    page.get_by_role("tab", name="Data scopes").click()
    assert page.locator("#scope-products").is_visible()
    assert page.locator("#scope-products").input_value() == DataScope.DEPARTMENT_TREE
    page.get_by_role("tab", name="Field rights").click()
    assert page.get_by_text("Hidden fields disappear").is_visible()
