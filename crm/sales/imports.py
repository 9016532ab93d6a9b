"""C4/S1 lead import through core's import machinery (column mapping, dry run,
all-or-nothing commit, errors per row). Every row is a new lead, created by the lead
service (numbers, validation, field rights, audit); its source is "import" unless the
file says otherwise; its owner is the one named (user name or name of an active
employee), else whoever the assignment rule for its source gives it to, else the
importer."""

from django.utils.translation import gettext_lazy as _

from crm.core.imports import (
    ImportField,
    ImportSpec,
    as_choice,
    as_date,
    as_text,
    register_import,
)
from crm.customers.imports import owner_lookup
from crm.sales.models import Lead
from crm.sales.services.leads import lead_create

LEAD_FIELDS = (
    ImportField(
        "name",
        _("contact name"),
        ("姓名", "联系人", "联系人姓名", "客户姓名", "name", "contact", "contact name"),
        required=True,
        parse=as_text(100),
    ),
    ImportField(
        "company",
        _("company"),
        ("公司", "公司名称", "单位", "单位名称", "企业名称", "客户名称", "company"),
        parse=as_text(200),
    ),
    ImportField(
        "job_title",
        _("job title"),
        ("职位", "职务", "岗位", "title", "job title", "position"),
        parse=as_text(100),
    ),
    ImportField(
        "mobile",
        _("mobile"),
        ("手机", "手机号", "手机号码", "移动电话", "mobile", "mobile phone", "cell"),
        parse=as_text(32),
    ),
    ImportField(
        "phone",
        _("phone"),
        ("电话", "座机", "固定电话", "办公电话", "phone", "telephone", "tel"),
        parse=as_text(32),
    ),
    ImportField(
        "email",
        _("email"),
        ("邮箱", "电子邮件", "电子邮箱", "email", "e-mail", "mail"),
        parse=as_text(254),
    ),
    ImportField(
        "address", _("address"), ("地址", "联系地址", "address"), parse=as_text(255)
    ),
    ImportField(
        "industry", _("industry"), ("行业", "所属行业", "industry"), parse=as_text(32)
    ),
    ImportField(
        "source",
        _("source"),
        ("来源", "线索来源", "source", "lead source"),
        parse=as_choice(Lead.Source),
        help=_("Empty: import."),
    ),
    ImportField(
        "source_detail",
        _("source detail"),
        ("来源说明", "来源详情", "活动", "活动名称", "source detail", "campaign"),
        parse=as_text(200),
    ),
    ImportField(
        "requirement",
        _("requirement"),
        ("需求", "需求描述", "备注", "说明", "requirement", "notes"),
        parse=as_text(),
    ),
    ImportField(
        "next_follow_up_on",
        _("next follow-up"),
        ("下次跟进", "下次跟进日期", "下次联系", "next follow-up", "follow up on"),
        parse=as_date,
    ),
    ImportField(
        "owner",
        _("owner"),
        ("负责人", "所有者", "销售", "跟进人", "owner", "sales rep"),
        parse=owner_lookup,
        help=_("User name or name of an active employee. Empty: by assignment rule."),
    ),
)


@register_import
class LeadImport(ImportSpec):
    key = "sales.lead"
    model = Lead
    title = _("Leads")
    fields = LEAD_FIELDS
    add_perm = "sales.add_lead"
    list_url_name = "sales:lead-list"
    detail_url_name = "sales:lead-detail"

    def row_service(self, *, actor, data: dict, existing):
        data = dict(data)
        data.setdefault("source", Lead.Source.IMPORT)
        return lead_create(
            actor=actor, data=data, route=data.get("owner") is None, note="import"
        )
