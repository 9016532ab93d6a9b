"""D5 sell-through upload (xlsx/csv) through core's import machinery: headers, cell
parsing, dry run, row errors and all-or-nothing commit are core's; one upload is one
report, stored by `sell_through_report_submit` like a form or API report.

Each row is checked on its own (`prepare_row`: the report's line rules, errors per
field) and collected; the row service of the file's last row submits the whole report
(`ImportJob.total` rows). So a conflict (the report id was already used with other
lines) is an error on the last row and nothing is imported, and a re-upload of the same
file is a replay: nothing is counted twice.

The report id comes from a `report_id` column (every row the same), else from the
upload form, else from the file's content (sha256), so the same file uploaded again is
the same report. The running job is found as the uploader's import of this spec that is
being checked or imported; `SellThroughUpload` carries its partner and form reference."""

import hashlib
from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.channels.models import SellThroughReport
from crm.channels.models.sellthrough import SellThroughLine, SellThroughUpload
from crm.channels.portal.access import is_partner_user
from crm.channels.services.sellthrough import clean_lines, sell_through_report_submit
from crm.core.errors import Invalid
from crm.core.imports import (
    ImportField,
    ImportSpec,
    RecordLookup,
    as_date,
    as_decimal,
    as_text,
    register_import,
)
from crm.core.models import ImportJob
from crm.customers.models import Region
from crm.products.models import Product

KEY = "channels.sellthrough"
RUNNING = (ImportJob.Status.CHECKING, ImportJob.Status.IMPORTING)

product_lookup = RecordLookup(
    lambda actor: Product.objects.all(), ("code", "name"), gettext_lazy("product")
)
region_lookup = RecordLookup(
    lambda actor: Region.objects.all(), ("code", "name"), gettext_lazy("region")
)

FIELDS = (
    ImportField(
        "reference",
        gettext_lazy("report id"),
        ("report_id", "report id", "上报单号", "报告编号", "单据编号"),
        parse=as_text(64),
        help=gettext_lazy("The same on every row; empty: the upload form's report id."),
    ),
    ImportField(
        "sold_on",
        gettext_lazy("sale date"),
        ("sold_on", "date", "日期", "销售日期"),
        required=True,
        parse=as_date,
    ),
    ImportField(
        "product",
        gettext_lazy("product"),
        ("product", "product code", "产品编码", "产品", "产品名称", "物料编码"),
        required=True,
        parse=product_lookup,
        help=gettext_lazy("Product code or name."),
    ),
    ImportField(
        "quantity",
        gettext_lazy("quantity"),
        ("quantity", "qty", "数量", "销售数量"),
        required=True,
        parse=as_decimal,
    ),
    ImportField(
        "amount",
        gettext_lazy("amount"),
        ("amount", "金额", "销售金额"),
        required=True,
        parse=as_decimal,
    ),
    ImportField(
        "end_customer_name",
        gettext_lazy("end customer"),
        ("end_customer", "end customer name", "客户", "客户名称", "终端客户"),
        required=True,
        parse=as_text(100),
    ),
    ImportField(
        "region",
        gettext_lazy("region"),
        ("region", "region code", "地区", "区域", "行政区划代码"),
        required=True,
        parse=region_lookup,
        help=gettext_lazy("Division code (440305) or name."),
    ),
)
LINE_FIELDS = [f.name for f in FIELDS if f.name != "reference"]


class PendingLine:
    """What a row's result names before the report is stored (at the last row)."""

    pk = None

    def __init__(self, line: dict):
        self.text = f"{line['sold_on']} · {line['product']} × {line['quantity']}"

    def __str__(self) -> str:
        return self.text


@dataclass
class Batch:
    """The lines of one run (dry run or commit), collected row by row."""

    upload: SellThroughUpload
    total: int
    reference: str = ""
    lines: list = field(default_factory=list)


def _running_upload(actor) -> SellThroughUpload:
    upload = (
        SellThroughUpload.objects.select_related("job", "partner")
        .filter(job__user=actor, job__spec_key=KEY, job__status__in=RUNNING)
        .order_by("-job__updated_at", "-pk")
        .first()
    )
    if upload is None:
        raise Invalid(_("Upload sell-through files from the portal's upload page."))
    return upload


def file_reference(job: ImportJob) -> str:
    """The report id of a file without one: its content, so a re-upload is the same."""
    with job.file.open("rb") as fh:
        digest = hashlib.sha256(fh.read()).hexdigest()
    return f"F-{digest[:20]}"


@register_import
class SellThroughImport(ImportSpec):
    key = KEY
    model = SellThroughLine
    title = gettext_lazy("Sell-through report")
    fields = FIELDS
    list_url_name = "portal:sellthrough-list"

    def may_import(self, user) -> bool:
        """Partner users upload their own partner's sales."""
        return is_partner_user(user) and user.is_active

    def prepare_row(self, *, actor, data: dict, existing, ctx) -> None:
        batch = ctx.cache.get("sellthrough")
        if batch is None:
            upload = _running_upload(actor)
            batch = ctx.cache["sellthrough"] = Batch(upload, upload.job.total)
        reference = (data.get("reference") or "").strip()
        if reference:
            if batch.reference and batch.reference != reference:
                message = _(
                    "Every row of one file belongs to one report: %(first)s, not "
                    "%(this)s."
                ) % {"first": batch.reference, "this": reference}
                raise Invalid(message, fields={"reference": [message]})
            batch.reference = reference
        line = {name: data.get(name) for name in LINE_FIELDS}
        try:
            clean_lines([line])
        except Invalid as exc:
            fields = {
                key.rsplit(".", 1)[-1]: [
                    m.split(": ", 1)[-1][:1].upper() + m.split(": ", 1)[-1][1:]
                    for m in messages
                ]
                for key, messages in exc.fields.items()
            }
            raise Invalid(exc.message, fields=fields) from None
        data["_batch"] = batch

    def row_service(self, *, actor, data: dict, existing):
        batch: Batch = data.pop("_batch")
        line = {name: data.get(name) for name in LINE_FIELDS}
        batch.lines.append(line)
        if len(batch.lines) < batch.total:
            return PendingLine(line)  # stored with the report at the last row
        upload = batch.upload
        reference = batch.reference or upload.reference or file_reference(upload.job)
        report = sell_through_report_submit(
            actor=actor,
            partner=upload.partner,
            reference=reference,
            lines=batch.lines,
            source=SellThroughReport.Source.UPLOAD,
        )
        upload.report, upload.replayed = report, report.replayed
        upload.save(update_fields=["report", "replayed", "updated_at"])
        return report
