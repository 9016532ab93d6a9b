from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    name = "crm.customers"
    label = "customers"
    verbose_name = _("Customers")

    def ready(self):
        from crm.core.menu import MenuItem, MenuSection, register_section
        from crm.core.numbering import SequenceSpec, register_sequence
        from crm.core.tabs import register_tab
        from crm.customers import selectors

        register_sequence(
            SequenceSpec("customers.customer", _("Customer number"), "KH", 6)
        )
        register_section(
            MenuSection(
                "customers",
                _("Customers"),
                "people",
                order=200,
                items=[
                    MenuItem(
                        _("Customers"),
                        "customers:customer-list",
                        "customers.view_customer",
                        "building",
                    ),
                    MenuItem(
                        _("Contacts"),
                        "customers:contact-list",
                        "customers.view_contact",
                        "person-lines-fill",
                    ),
                    MenuItem(
                        _("Activities"),
                        "customers:activity-list",
                        "customers.view_activity",
                        "chat-left-text",
                    ),
                    MenuItem(
                        _("Public pool"),
                        "customers:pool",
                        "customers.view_pool",
                        "water",
                    ),
                    MenuItem(
                        _("Analysis"),
                        "customers:analysis",
                        "customers.view_customer",
                        "bar-chart",
                    ),
                    MenuItem(
                        _("Duplicates"),
                        "customers:duplicates",
                        "customers.view_customer",
                        "intersect",
                    ),
                    MenuItem(
                        _("Recycle bin"),
                        "customers:bin",
                        "customers.restore_customer",
                        "trash",
                    ),
                ],
            )
        )
        # The 360° view's own tabs go through the same registry as other modules' tabs.
        register_tab(
            "customers.customer",
            "contacts",
            _("Contacts"),
            "customers/_tab_contacts.html",
            context=selectors.contacts_tab_context,
            count=selectors.contacts_tab_count,
            order=10,
            perm="customers.view_contact",
            icon="person-lines-fill",
        )
        register_tab(
            "customers.customer",
            "subsidiaries",
            _("Subsidiaries"),
            "customers/_tab_subsidiaries.html",
            context=selectors.subsidiaries_tab_context,
            count=selectors.subsidiaries_tab_count,
            order=90,
            icon="diagram-3",
        )
        self._ready_care()

    def _ready_care(self):
        """C6–C8, X5: the activities and public-pool tabs, the calendar feed's sources;
        importing the modules registers their lists and system parameters."""
        from crm.core.calendar import register_calendar_source
        from crm.core.tabs import register_tab
        from crm.customers import activities, analysis, care, pool  # noqa: F401

        register_tab(
            "customers.customer",
            "activities",
            _("Activities"),
            "customers/_tab_activities.html",
            context=activities.activities_tab_context,
            count=activities.activities_tab_count,
            order=20,
            perm="customers.view_activity",
            icon="chat-left-text",
        )
        register_tab(
            "customers.customer",
            "pool",
            _("Public pool"),
            "customers/_tab_pool.html",
            context=pool.pool_tab_context,
            order=95,
            perm="customers.view_pool",
            icon="water",
        )
        register_calendar_source("customers.birthdays", care.birthday_events)
        register_calendar_source("customers.follow_ups", care.follow_up_events)
