from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrgConfig(AppConfig):
    name = "crm.org"
    label = "org"
    verbose_name = _("Organisation")

    def ready(self):
        from crm.core.menu import MenuItem, MenuSection, register_section
        from crm.core.numbering import SequenceSpec, register_sequence

        register_sequence(SequenceSpec("org.employee", _("Employee number"), "E", 4))

        register_section(
            MenuSection(
                "system",
                _("System setup"),
                "gear",
                order=900,
                items=[
                    MenuItem(
                        _("Departments"),
                        "org:department-tree",
                        "org.view_department",
                        "diagram-3",
                    ),
                    MenuItem(
                        _("Employees"), "org:employee-list", "org.view_user", "people"
                    ),
                    MenuItem(
                        _("Roles & permissions"),
                        "org:role-list",
                        "org.view_role",
                        "shield-lock",
                    ),
                    MenuItem(
                        _("System parameters"),
                        "core:parameters",
                        "core.manage_system",
                        "sliders",
                    ),
                    MenuItem(
                        _("Number sequences"),
                        "core:sequences",
                        "core.manage_system",
                        "123",
                    ),
                    MenuItem(_("API documentation"), "api-docs", None, "braces"),
                    # S10: company news, read by everybody, written by publishers.
                    MenuItem(
                        _("Company news"), "org:announcement-list", None, "megaphone"
                    ),
                ],
            )
        )
