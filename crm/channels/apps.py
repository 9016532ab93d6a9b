from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChannelsConfig(AppConfig):
    name = "crm.channels"
    label = "channels"
    verbose_name = _("Channels")

    def ready(self):
        from crm.core.menu import MenuItem, MenuSection, register_section
        from crm.core.numbering import SequenceSpec, register_sequence
        from crm.core.params import Param, register

        for key, label, prefix in (
            ("channels.partner", _("Partner number"), "QD"),
            ("channels.agreement", _("Agreement number"), "XY"),
            ("channels.purchase_order", _("Purchase order number"), "CG"),
            ("channels.deal", _("Deal registration number"), "BB"),
        ):
            register_sequence(SequenceSpec(key, label, prefix, 6))
        register(
            Param(
                "agreement_expiry_warning_days",
                _("Warn before an agreement expires (days)"),
                int,
                30,
                min=1,
                max=365,
                group=_("Channels"),
                help=_(
                    "The channel manager is told this many days before a partner's "
                    "agreement expires."
                ),
            ),
        )
        # Each item's URL name belongs to one area's web module (crm/channels/web/);
        # the menu skips names not (yet) routed.
        register_section(
            MenuSection(
                "channels",
                _("Channels"),
                "diagram-3",
                order=250,
                items=[
                    MenuItem(
                        _("Channel dashboard"),
                        "channels:dashboard",
                        "channels.view_partner",
                        "speedometer",
                    ),
                    MenuItem(
                        _("Partners"),
                        "channels:partner-list",
                        "channels.view_partner",
                        "shop",
                    ),
                    MenuItem(
                        _("Agreements"),
                        "channels:agreement-list",
                        "channels.view_agreement",
                        "file-earmark-ruled",
                    ),
                    MenuItem(
                        _("Purchase orders"),
                        "channels:purchaseorder-list",
                        "channels.view_purchaseorder",
                        "box-arrow-in-down",
                    ),
                    MenuItem(
                        _("Sell-through"),
                        "channels:sellthrough-list",
                        "channels.view_sellthroughreport",
                        "receipt",
                    ),
                    MenuItem(
                        _("Channel inventory"),
                        "channels:inventory",
                        "channels.view_stockcount",
                        "boxes",
                    ),
                    MenuItem(
                        _("Reconciliation"),
                        "channels:reconciliation",
                        "channels.view_stockcount",
                        "clipboard-check",
                    ),
                    MenuItem(
                        _("Partner targets"),
                        "channels:target-list",
                        "channels.view_partnertarget",
                        "flag",
                    ),
                    MenuItem(
                        _("Scorecards"),
                        "channels:scoreperiod-list",
                        "channels.view_scoreperiod",
                        "trophy",
                    ),
                    MenuItem(
                        _("Promotions"),
                        "channels:promotion-list",
                        "channels.view_promotion",
                        "megaphone",
                    ),
                    MenuItem(
                        _("Partner plans"),
                        "channels:plan-list",
                        "channels.view_partnerplan",
                        "calendar-range",
                    ),
                    MenuItem(
                        _("Deal registrations"),
                        "channels:deal-list",
                        "channels.view_dealregistration",
                        "person-check",
                    ),
                ],
            )
        )
