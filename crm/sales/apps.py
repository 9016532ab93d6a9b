from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SalesConfig(AppConfig):
    name = "crm.sales"
    label = "sales"
    verbose_name = _("Sales")

    def ready(self):
        from crm.core.menu import MenuItem, MenuSection, register_section
        from crm.core.numbering import SequenceSpec, register_sequence
        from crm.core.params import Param, register

        for key, label, prefix in (
            ("sales.lead", _("Lead number"), "XS"),
            ("sales.opportunity", _("Opportunity number"), "SJ"),
            ("sales.quote", _("Quote number"), "BJ"),
            ("sales.contract", _("Contract number"), "HT"),
            ("sales.order", _("Sales order number"), "DD"),
            ("sales.payment", _("Receipt number"), "SK"),
        ):
            register_sequence(SequenceSpec(key, label, prefix, 6))
        register(
            Param(
                "quote_discount_approval_percent",
                _("Discount needing approval (%)"),
                int,
                10,
                min=0,
                max=100,
                group=_("Sales"),
                help=_(
                    "A quote with a line discount above this percentage needs "
                    "approval by a holder of the approve-discount permission."
                ),
            ),
        )
        register_section(
            MenuSection(
                "sales",
                _("Sales"),
                "graph-up-arrow",
                order=300,
                items=[
                    MenuItem(
                        _("Leads"), "sales:lead-list", "sales.view_lead", "funnel"
                    ),
                    MenuItem(
                        _("Opportunities"),
                        "sales:opportunity-list",
                        "sales.view_opportunity",
                        "bullseye",
                    ),
                    MenuItem(
                        _("Pipeline"),
                        "sales:pipeline",
                        "sales.view_opportunity",
                        "kanban",
                    ),
                    MenuItem(
                        _("Quotes"), "sales:quote-list", "sales.view_quote", "file-text"
                    ),
                    MenuItem(
                        _("Contracts"),
                        "sales:contract-list",
                        "sales.view_contract",
                        "file-earmark-check",
                    ),
                    MenuItem(
                        _("Sales orders"),
                        "sales:order-list",
                        "sales.view_salesorder",
                        "cart",
                    ),
                    MenuItem(
                        _("Payments"),
                        "sales:payment-list",
                        "sales.view_payment",
                        "cash-coin",
                    ),
                    MenuItem(
                        _("Receivables"),
                        "sales:receivables",
                        "sales.view_instalment",
                        "hourglass-split",
                    ),
                    MenuItem(
                        _("Commissions"),
                        "sales:commission-period-list",
                        "sales.view_commissionperiod",
                        "percent",
                    ),
                    MenuItem(
                        _("Sales plans"),
                        "sales:target-list",
                        "sales.view_salestarget",
                        "flag",
                    ),
                    MenuItem(
                        _("Sales analysis"),
                        "sales:analysis",
                        "sales.view_opportunity",
                        "bar-chart-line",
                    ),
                    MenuItem(
                        _("Pipeline stages"),
                        "sales:stage-settings",
                        "sales.change_stage",
                        "sliders",
                    ),
                    MenuItem(
                        _("Competitors"),
                        "sales:competitor-list",
                        "sales.view_competitor",
                        "shield",
                    ),
                ],
            )
        )
        # S10: the customer 360° tabs, home panels and calendar sources of sales.
        from crm.sales import workspace

        workspace.ready()
