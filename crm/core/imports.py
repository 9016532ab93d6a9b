"""C4 import machinery, written once: every module describes its import with an ImportSpec
(fields with Chinese and English header aliases, match keys, a row service) and core does
the rest: reading xlsx/csv (UTF-8 with or without BOM, GBK), recognising headers, the dry
run, the all-or-nothing commit, background jobs with progress and the error report.

Rows are written through the module's services (`ImportSpec.row_service`), so the same
permissions, rules and audit trail apply as in a form. A spec may also give a bulk writer
for new records (`ImportSpec.bulk_writer`): each row is still checked on its own by the
same rules, then written with the rows around it in one batch (X6: thousands of rows a
second); a batch the database refuses is written again row by row, which names the row.
A dry run is the real import inside a transaction that is rolled back, so it finds
exactly the errors the commit would find.
"""

import csv
import datetime
import io
import json
import os
import re
import socket
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from itertools import islice

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import DataError, IntegrityError, transaction
from django.db.models import CharField, Q, QuerySet
from django.db.models.functions import Lower
from django.utils import timezone, translation
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.core.errors import Conflict, DomainError, Forbidden, Invalid, NotFound
from crm.core.fieldrights import field_rights
from crm.core.lists import FORMULA_PREFIXES, export_value
from crm.core.models import ImportJob
from crm.core.scopes import can

IMPORT_REGISTRY: dict[str, "ImportSpec"] = {}
_discovered = False

# Defaults; each can be set in the settings.
SYNC_LIMIT = 2_000  # CRM_IMPORT_SYNC_LIMIT: more data rows than this run as a job
MAX_ROWS = 50_000  # CRM_IMPORT_MAX_ROWS
MAX_BYTES = 20 * 1024 * 1024  # CRM_IMPORT_MAX_BYTES: size of the uploaded file
MAX_UNZIPPED = 200 * 1024 * 1024  # an xlsx that unpacks to more is refused (zip bomb)
MAX_COLUMNS = 200
BATCH = 1_000  # rows per batch: one query per batch for match keys and references
PROGRESS_EVERY = 100

NEW, UPDATE, UNCHANGED, DUPLICATE, ERROR = (
    "new",
    "update",
    "unchanged",
    "duplicate",
    "error",
)
FATES = (NEW, UPDATE, UNCHANGED, DUPLICATE, ERROR)
FATE_LABELS = {
    NEW: gettext_lazy("New"),
    UPDATE: gettext_lazy("Update"),
    UNCHANGED: gettext_lazy("Unchanged"),
    DUPLICATE: gettext_lazy("Duplicate"),
    ERROR: gettext_lazy("Error"),
}
PROBLEMS = (DUPLICATE, ERROR)

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_TEXT_TAG = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}t"


def setting(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


# Fields, match keys, specs


@dataclass(frozen=True)
class ImportField:
    """One column a spec accepts. `parse(value, ctx)` turns a cell into the service's value
    or raises ValueError/Invalid with the reason; a cell left empty is not passed on."""

    name: str
    label: str
    aliases: tuple[str, ...] = ()
    required: bool = False  # needed to create a record (an update may leave it out)
    parse: Callable | None = None
    help: str = ""


@dataclass(frozen=True)
class MatchKey:
    """A field that identifies an existing record, so a re-import updates it."""

    name: str
    label: str
    field: str
    ignore_case: bool = True


@dataclass(frozen=True)
class ChildSpec:
    """Repeated groups of columns on one row, e.g. up to three contacts of a customer:
    headers "联系人1姓名" / "Contact 1 name"; the row service gets data[name] as a list."""

    name: str
    label: str
    fields: tuple[ImportField, ...]
    count: int = 3
    prefixes: tuple[str, ...] = ()  # header prefixes, "{n}" is the group number
    model: object = None  # for field rights on the child's fields


@dataclass(frozen=True)
class Target:
    """A place a file column can go: a field of the record or of its n-th child."""

    name: str  # "code", or "contacts.1.mobile"
    label: str
    field: ImportField
    child: str = ""
    index: int = 0
    aliases: frozenset[str] = frozenset()


class BulkWriter:
    """Creates a spec's new records in batches, checking each row as row_service would.

    The import calls `prefetch` with the parsed data of a batch's rows before checking
    them (one query for what the checks look up), `accepts` to ask whether a row can go
    in the batch at all, `add` for each row (raising the errors row_service would raise
    for it; nothing is written yet), `write` to insert what was added (the records, in
    order), and `forget` after it wrote a record one at a time (what `prefetch` loaded
    may be stale). When `write` raises, the import writes those rows again one by one.
    """

    def prefetch(self, rows: list[dict]) -> None:
        pass

    def accepts(self, data: dict) -> bool:
        return True

    def add(self, data: dict) -> None:
        raise NotImplementedError

    def write(self) -> list:
        raise NotImplementedError

    def forget(self) -> None:
        pass


class ImportSpec:
    """Configure one import: subclass, set the attributes, decorate with @register_import."""

    key: str = ""
    model = None
    title = ""
    fields: tuple[ImportField, ...] = ()
    match_keys: tuple[MatchKey, ...] = ()
    children: tuple[ChildSpec, ...] = ()
    add_perm: str = ""
    change_perm: str = ""
    list_url_name: str = ""
    detail_url_name: str = ""

    def row_service(self, *, actor, data: dict, existing):
        """Create (existing is None) or update one record through the module's services."""
        raise NotImplementedError

    def bulk_writer(self, *, actor) -> BulkWriter | None:
        """A writer that creates new records in batches, or None: row_service does."""
        return None

    def reads_earlier_rows(self, data: dict) -> bool:
        """True when preparing this row looks up a record an earlier row of the file
        may create (a parent company by name): the rows before it are written first."""
        return False

    def queryset(self, actor) -> QuerySet:
        """The records an import may update: those the user can see (Y5)."""
        return self.model.objects.visible_to(actor)

    def match_queryset(self) -> QuerySet:
        """Every record a key may belong to, seen or not (a key used outside the scope is
        an error on the row, never a silent overwrite or a duplicate)."""
        return self.model._default_manager.all()

    def prepare_row(self, *, actor, data: dict, existing, ctx) -> None:
        """Combine or check a row's parsed cells once they are all known, e.g. a region
        given as separate province, city and district columns. Raise Invalid with field
        errors to refuse the row. Runs before the row is compared and written."""

    def is_unchanged(self, existing, data: dict) -> bool:
        """True when the row would change nothing, so no version bump and no audit row."""
        for name, value in data.items():
            if name in {c.name for c in self.children}:
                return False
            if hasattr(value, "_meta"):  # compare ids: no query for the related record
                value = value.pk
                current = getattr(existing, f"{name}_id", None)
            else:
                current = getattr(existing, name, None)
            if isinstance(current, Decimal) and value is not None:
                try:
                    if Decimal(value) != current:
                        return False
                except (InvalidOperation, TypeError):
                    return False
            elif current != value:
                return False
        return True

    def may_import(self, user) -> bool:
        return can(user, self.add_perm) or can(user, self.change_perm)

    def authorize(self, user) -> None:
        """Importing needs the module's add or change permission; each row service checks
        the one it needs. Export permission is not involved."""
        if not self.may_import(user):
            raise Forbidden(_("You do not have permission to do this."))

    def targets(self, user) -> dict[str, Target]:
        """Where columns may go for this user: hidden and read-only fields are left out."""
        rights = field_rights(user, self.model)
        blocked = rights.hidden | rights.readonly
        result: dict[str, Target] = {}
        for f in self.fields:
            if f.name in blocked:
                continue
            result[f.name] = Target(
                f.name, str(f.label), f, aliases=_aliases(f.name, f.label, f.aliases)
            )
        for child in self.children:
            child_blocked = frozenset()
            if child.model is not None:
                child_rights = field_rights(user, child.model)
                child_blocked = child_rights.hidden | child_rights.readonly
            for n in range(1, child.count + 1):
                for f in child.fields:
                    if f.name in child_blocked:
                        continue
                    name = f"{child.name}.{n}.{f.name}"
                    label = f"{child.label} {n}: {f.label}"
                    words = {f.name, *f.aliases, *_label_words(f.label)}
                    prefixes = {*child.prefixes, *_label_words(child.label), child.name}
                    aliases: set[str] = set()
                    for prefix in prefixes:
                        numbered = prefix if "{n}" in prefix else prefix + "{n}"
                        for word in words:
                            aliases |= _aliases(numbered.format(n=n) + word, "", ())
                            if n == 1:  # "联系人姓名" is the first contact's name
                                aliases |= _aliases(
                                    numbered.format(n="") + word, "", ()
                                )
                    result[name] = Target(
                        name, label, f, child.name, n, frozenset(aliases)
                    )
        return result

    def available_match_keys(self, user) -> list[MatchKey]:
        targets = self.targets(user)
        return [m for m in self.match_keys if m.field in targets]


def register_import(spec_class):
    spec = spec_class()
    IMPORT_REGISTRY[spec.key] = spec
    return spec_class


def import_spec(key: str) -> ImportSpec:
    """The registered spec; each app's `imports` module is loaded on first use (web
    process and Celery worker alike)."""
    global _discovered
    if not _discovered:
        autodiscover_modules("imports")
        _discovered = True
    try:
        return IMPORT_REGISTRY[key]
    except KeyError:
        raise NotFound(_("No such import.")) from None


# Headers


_BRACKETS = re.compile(r"[(（\[【][^)）\]】]*[)）\]】]")
_PUNCTUATION = re.compile(r"[\s_\-:：*＊/.。·、#＃]+")


def normalize_header(text) -> str:
    """ "产品编码*", "Product Code (SKU)" and "product_code" compare as equal words."""
    text = str(text or "").strip()
    stripped = _BRACKETS.sub("", text)
    return _PUNCTUATION.sub("", stripped or text).casefold()


def _label_words(label) -> set[str]:
    """A (lazy) label in both languages, whatever language the user works in."""
    words = set()
    for lang in ("en", "zh-hans"):
        with translation.override(lang):
            words.add(str(label))
    return words


def _aliases(name: str, label, extra: Iterable[str]) -> frozenset[str]:
    words = {name, *extra, *(_label_words(label) if label else ())}
    return frozenset(w for w in (normalize_header(w) for w in words) if w)


def suggest_mapping(headers: list[str], targets: dict[str, Target]) -> list[str]:
    """For each file column, the target its header names, or "" (each target once)."""
    mapping, used = [], set()
    for header in headers:
        word = normalize_header(header)
        found = ""
        if word:
            for name, target in targets.items():
                if name not in used and word in target.aliases:
                    found = name
                    break
        if found:
            used.add(found)
        mapping.append(found)
    return mapping


# Reading files


@dataclass
class Table:
    headers: list[str]
    rows: list[tuple[int, list]]  # (row number as the spreadsheet shows it, cells)
    file_format: str


def _clean_cell(value):
    if value is None:
        return None
    if isinstance(value, str):
        value = value.strip()
        return value or None
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return int(value)
    return value


def _finish(raw_rows: Iterable[tuple[int, list]], file_format: str, max_rows: int):
    """Header = first non-empty row; empty rows are skipped; the row count is capped."""
    headers, rows = None, []
    for number, cells in raw_rows:
        cells = [_clean_cell(c) for c in cells[:MAX_COLUMNS]]
        if not any(c is not None for c in cells):
            continue
        if headers is None:
            headers = ["" if c is None else str(c) for c in cells]
            while headers and not headers[-1]:
                headers.pop()
            continue
        rows.append((number, cells))
        if len(rows) > max_rows:
            raise Invalid(
                _("The file has more than %(max)s rows. Split it into smaller files.")
                % {"max": f"{max_rows:,}"}
            )
    if headers is None:
        raise Invalid(_("The file is empty."))
    if not rows:
        raise Invalid(_("The file has a header row but no data rows below it."))
    return Table(headers, rows, file_format)


_NOT_XLSX = gettext_lazy(
    "This is not an Excel workbook (.xlsx). Save the data as .xlsx or .csv and upload "
    "it again."
)


def _read_xlsx(data: bytes, max_rows: int) -> Table:
    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
            unpacked = sum(i.file_size for i in archive.infolist())
    except (zipfile.BadZipFile, EOFError, ValueError):
        raise Invalid(
            _("The file is damaged: it cannot be opened as an Excel workbook.")
        ) from None
    if "xl/workbook.xml" not in names:
        raise Invalid(_NOT_XLSX)
    if unpacked > MAX_UNZIPPED:
        raise Invalid(_("The workbook is too large once unpacked."))
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
        try:
            sheet = workbook.worksheets[0]
            raw = ((n, list(row)) for n, row in enumerate(_sheet_rows(sheet), start=1))
            return _finish(raw, "xlsx", max_rows)
        finally:
            workbook.close()
    except (DomainError, MemoryError):
        raise
    except Exception:  # openpyxl raises many kinds on a damaged workbook
        raise Invalid(
            _("The file is damaged: it cannot be opened as an Excel workbook.")
        ) from None


def _inline_text(node) -> str:
    """An inline string's text as openpyxl's Text.content gives it: the plain <t>, then
    each rich-text run's <t> (phonetic runs left out)."""
    plain, runs = None, []
    for child in node:
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "t":
            plain = child.text
        elif tag == "r":
            text = child.find(_TEXT_TAG)
            runs.append(text.text or "" if text is not None else "")
    return "".join([plain, *runs] if plain is not None else runs)


def _sheet_parser_class():
    """openpyxl's sheet parser, except that inline strings (as openpyxl itself and many
    exporters write text) are read directly instead of through its object model, which
    took two thirds of the time of reading a workbook."""
    from openpyxl.worksheet._reader import (
        FORMULA_TAG,
        INLINE_STRING,
        WorkSheetParser,
        coordinate_to_tuple,
    )

    class SheetParser(WorkSheetParser):
        def parse_cell(self, element):
            if element.get("t") != "inlineStr" or (
                not self.data_only and element.find(FORMULA_TAG) is not None
            ):
                return super().parse_cell(element)
            style_id = element.get("s", 0)
            if style_id:
                style_id = int(style_id)
            coordinate = element.get("r")
            if coordinate:
                row, column = coordinate_to_tuple(coordinate)
                self.col_counter = column
            else:
                self.col_counter += 1
                row, column = self.row_counter, self.col_counter
            value, data_type = None, "inlineStr"
            child = element.find(INLINE_STRING)
            if child is not None:
                value, data_type = _inline_text(child), "s"
            return {
                "row": row,
                "column": column,
                "value": value,
                "data_type": data_type,
                "style_id": style_id,
            }

    return SheetParser


def _sheet_rows(sheet):
    """The values of a read-only sheet's rows, as sheet.iter_rows(values_only=True) gives
    them (missing rows and cells filled with None, within the sheet's dimensions), read
    with the faster parser above."""
    workbook = sheet.parent
    max_col, max_row = sheet.max_column, sheet.max_row
    empty_row = (None,) * max_col if max_col is not None else ()
    counter = 1
    with sheet._get_source() as source:
        parser = _sheet_parser_class()(
            source,
            sheet._shared_strings,
            data_only=workbook.data_only,
            epoch=workbook.epoch,
            date_formats=workbook._date_formats,
            timedelta_formats=workbook._timedelta_formats,
        )
        idx = 1
        for idx, cells in parser.parse():
            if max_row is not None and idx > max_row:
                break
            while counter < idx:  # rows missing from the file
                counter += 1
                yield empty_row
            if counter <= idx:
                counter += 1
                yield sheet._get_row(cells, 1, max_col, values_only=True)
    if max_row is not None and max_row < idx:
        for _ in range(counter, max_row + 1):
            yield empty_row


def _decode(data: bytes) -> str:
    """UTF-8 (with or without BOM) first; Excel in China saves CSV in GBK: gb18030 then."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise Invalid(
            _("The file's text encoding is not recognised. Save it as UTF-8 CSV.")
        ) from None


def _read_csv(data: bytes, max_rows: int) -> Table:
    if b"\x00" in data[:8192]:
        raise Invalid(
            _(
                "This is not a CSV text file. Save the data as .xlsx or .csv and upload "
                "it again."
            )
        )
    text = _decode(data)
    first_line = text.split("\n", 1)[0]
    delimiter = max((",", "\t", ";"), key=first_line.count)
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        # Numbered as a spreadsheet shows them: a quoted cell may span several lines.
        return _finish(enumerate(reader, start=1), "csv", max_rows)
    except csv.Error:
        raise Invalid(_("The CSV file is malformed.")) from None


def read_table(data: bytes, filename: str, *, max_rows: int | None = None) -> Table:
    """A file's header and data rows; a clear Invalid for anything that is not one."""
    max_rows = max_rows or setting("CRM_IMPORT_MAX_ROWS", MAX_ROWS)
    if not data:
        raise Invalid(_("The file is empty."))
    ext = os.path.splitext(filename or "")[1].lower()
    if data.startswith(b"PK\x03\x04") or data.startswith(b"PK\x05\x06"):
        return _read_xlsx(data, max_rows)
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise Invalid(
            _("Old Excel files (.xls) are not supported. Save it as .xlsx and retry.")
        )
    if ext == ".xlsx":
        raise Invalid(_NOT_XLSX)
    if ext not in {".csv", ".txt"}:
        raise Invalid(_("Upload an Excel workbook (.xlsx) or a CSV file (.csv)."))
    return _read_csv(data, max_rows)


# Cell parsers (ImportField.parse); each gets the cell and the import context


@dataclass
class Context:
    actor: object
    cache: dict = field(default_factory=dict)


def as_text(max_length: int | None = None):
    def parse(value, ctx):
        if isinstance(value, datetime.datetime | datetime.date):
            value = value.isoformat()
        value = str(value).strip()
        if max_length and len(value) > max_length:
            raise ValueError(
                _("At most %(n)s characters (this has %(m)s).")
                % {"n": max_length, "m": len(value)}
            )
        return value

    return parse


def as_decimal(value, ctx=None) -> Decimal:
    """Numbers as typed in China: "1,234.50", "¥1234.5", "1 234,00" is not accepted."""
    if isinstance(value, bool):
        raise ValueError(_("Not a number."))
    if isinstance(value, int | Decimal):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(str(value))
    cleaned = re.sub(r"[,，\s¥￥元]", "", str(value))
    try:
        number = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(_("Not a number.")) from None
    if not number.is_finite():
        raise ValueError(_("Not a number."))
    return number


def as_integer(value, ctx=None) -> int:
    number = as_decimal(value)
    if number != number.to_integral_value():
        raise ValueError(_("Not a whole number."))
    return int(number)


_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日", "%Y%m%d")


def as_date(value, ctx=None) -> datetime.date:
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    raw = str(value).strip().split(" ")[0]
    for fmt in _DATE_FORMATS:
        try:
            return datetime.datetime.strptime(raw, fmt).date()  # noqa: DTZ007
        except ValueError:
            continue
    raise ValueError(_("Not a date; write it as 2026-01-31."))


_TRUE = {"1", "true", "yes", "y", "是", "有", "√", "✓", "对"}
_FALSE = {"0", "false", "no", "n", "否", "无", "×", "✗", "不"}


def as_bool(value, ctx=None) -> bool:
    if isinstance(value, bool):
        return value
    word = str(value).strip().casefold()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise ValueError(_("Write yes or no (是 or 否)."))


def as_choice(choices):
    """A choice given by its stored value or its label in Chinese or English."""
    by_word: dict[str, str] = {}
    for value, label in choices.choices:
        by_word[str(value).casefold()] = value
        for word in _label_words(label):
            by_word.setdefault(word.casefold(), value)

    def parse(value, ctx):
        word = str(value).strip().casefold()
        if word in by_word:
            return by_word[word]
        with translation.override(translation.get_language()):
            allowed = "、".join(str(label) for _v, label in choices.choices)
        raise ValueError(_("Not one of: %(allowed)s.") % {"allowed": allowed})

    return parse


class RecordLookup:
    """A reference to another record by one of its fields, e.g. a category by code or
    name. Values of a batch are resolved in one query (prefetch)."""

    def __init__(self, queryset: Callable, fields: tuple[str, ...], noun: str = ""):
        self.queryset, self.fields, self.noun = queryset, fields, noun

    def _key(self) -> str:
        return f"lookup:{id(self)}"

    def prefetch(self, ctx: Context, values: set[str]) -> None:
        found: dict = ctx.cache.setdefault(self._key(), {})
        wanted = {str(v).strip() for v in values} - set(found)
        if not wanted:
            return
        lowered = {v.casefold() for v in wanted}
        qs = self.queryset(ctx.actor)
        condition = Q()
        for name in self.fields:
            qs = qs.annotate(**{f"_lk_{name}": Lower(name)})
            condition |= Q(**{f"_lk_{name}__in": lowered})
        records = list(qs.filter(condition))
        for value in wanted:
            word = value.casefold()
            result = None
            for name in self.fields:
                hits = [
                    r for r in records if str(getattr(r, name) or "").casefold() == word
                ]
                if len(hits) == 1:
                    result = hits[0]
                    break
                if len(hits) > 1:
                    result = "many"
                    break
            found[value] = result

    def __call__(self, value, ctx: Context):
        value = str(value).strip()
        self.prefetch(ctx, {value})
        result = ctx.cache[self._key()][value]
        if result is None:
            raise ValueError(
                _("No %(noun)s “%(value)s”.") % {"noun": self.noun, "value": value}
            )
        if result == "many":
            raise ValueError(
                _("Several %(noun)s are called “%(value)s”; use the code.")
                % {"noun": self.noun, "value": value}
            )
        return result


_NUMBER_LIKE = re.compile(r"[+-][\d\s.,()%-]*\d[\d\s.,()%-]*")
_DASHES = re.compile(r"[-\s]+")


def formula_like(value: str) -> bool:
    """A cell a spreadsheet would run as a formula (CSV/formula injection): "=cmd|…",
    "@SUM(…)", "+1+2". Signed numbers and phone numbers ("-5", "+86 138…") are fine."""
    if not value.startswith(FORMULA_PREFIXES):
        return False
    return not (_NUMBER_LIKE.fullmatch(value) or _DASHES.fullmatch(value))


# Running an import


@dataclass
class RowResult:
    row: int
    fate: str
    key: str = ""
    record: dict | None = None  # {"pk", "repr"} of the record created or updated
    duplicate_of: int | None = None
    errors: list = field(default_factory=list)  # [[field label, reason], ...]

    def as_dict(self) -> dict:
        data = {"row": self.row, "fate": self.fate, "key": self.key}
        if self.record:
            data["record"] = self.record
        if self.duplicate_of:
            data["duplicate_of"] = self.duplicate_of
        if self.errors:
            data["errors"] = self.errors
        return data


def _progress_key(job_id: int) -> str:
    return f"crm:import-progress:{job_id}"


def job_progress(job: ImportJob) -> int:
    """Rows done so far: a running import writes them to the cache, since its own
    transaction (all-or-nothing) is not visible to the page polling for it."""
    if job.status in (ImportJob.Status.CHECKING, ImportJob.Status.IMPORTING):
        return int(cache.get(_progress_key(job.pk)) or job.done)
    return job.done


def _error_list(exc, targets: dict[str, Target], model) -> list[list[str]]:
    if isinstance(exc, ValidationError):
        exc = Invalid(
            "; ".join(str(m) for m in exc.messages),
            fields=getattr(exc, "message_dict", None),
        )
    if isinstance(exc, DomainError):
        if exc.fields:
            return [
                [str(_field_label(name, targets, model)), str(message)]
                for name, messages in exc.fields.items()
                for message in messages
            ]
        return [["", str(exc.message)]]
    return [["", _("The database refused this row: %(error)s") % {"error": exc}]]


def _field_label(name: str, targets: dict[str, Target], model) -> str:
    if name in targets:
        return targets[name].label
    if name in {"__all__", "", None}:
        return ""
    try:
        return str(model._meta.get_field(name).verbose_name)
    except Exception:
        return name


def _normalize_key(value, match: MatchKey) -> str:
    if value is None:
        return ""
    if hasattr(value, "_meta"):
        return str(value.pk)
    word = str(value).strip()
    return word.lower() if match.ignore_case else word


def _find_existing(spec: ImportSpec, actor, match: MatchKey, keys: set[str]) -> dict:
    """Key -> the visible record it names, or "hidden" (used by a record outside the
    user's scope) or "many": two queries per batch, whatever its size."""
    if not keys:
        return {}
    qs = spec.match_queryset()
    if match.ignore_case:
        qs = qs.annotate(_import_key=Lower(match.field)).filter(_import_key__in=keys)
    else:
        qs = qs.filter(**{f"{match.field}__in": keys})
        if isinstance(spec.model._meta.get_field(match.field), CharField):
            # Keys are never blank; saying so lets PostgreSQL use a unique index that
            # leaves blanks out (the credit code's), which it cannot prove by itself
            # for more than 100 values: a scan of the whole table per batch otherwise.
            qs = qs.exclude(**{match.field: ""})
    owners: dict[str, list[int]] = {}
    for pk, value in qs.values_list("pk", match.field):
        owners.setdefault(_normalize_key(value, match), []).append(pk)
    pks = [pk for group in owners.values() for pk in group]
    visible = {obj.pk: obj for obj in spec.queryset(actor).filter(pk__in=pks)}
    found = {}
    for key, group in owners.items():
        if len(group) > 1:
            found[key] = "many"
        elif group[0] in visible:
            found[key] = visible[group[0]]
        else:
            found[key] = "hidden"
    return found


def _parse_row(cells, columns, targets, ctx) -> tuple[dict, dict, list]:
    """Cells -> (record data, children data, errors)."""
    data: dict = {}
    children: dict[str, dict[int, dict]] = {}
    errors: list[list[str]] = []
    for index, target in columns:
        value = cells[index] if index < len(cells) else None
        if value is None:
            continue
        if isinstance(value, str) and formula_like(value):
            errors.append(
                [
                    target.label,
                    _(
                        "Starts with “%(char)s” like a spreadsheet formula; formulas "
                        "are not imported. Remove the character or type the value."
                    )
                    % {"char": value[0]},
                ]
            )
            continue
        parse = target.field.parse or as_text()
        try:
            parsed = parse(value, ctx)
        except (ValueError, TypeError, ValidationError, DomainError) as exc:
            message = (
                exc.message
                if isinstance(exc, DomainError)
                else "; ".join(exc.messages)
                if isinstance(exc, ValidationError)
                else str(exc)
            )
            errors.append([target.label, message or _("Not valid.")])
            continue
        if target.child:
            children.setdefault(target.child, {}).setdefault(target.index, {})[
                target.field.name
            ] = parsed
        else:
            data[target.field.name] = parsed
    return data, children, errors


def _prefetch(chunk, columns, ctx) -> None:
    by_parser: dict[int, tuple[object, set]] = {}
    for index, target in columns:
        parser = target.field.parse
        if not hasattr(parser, "prefetch"):
            continue
        values = by_parser.setdefault(id(parser), (parser, set()))[1]
        for _number, cells in chunk:
            value = cells[index] if index < len(cells) else None
            if value is not None and not (
                isinstance(value, str) and formula_like(value)
            ):
                values.add(str(value).strip())
    for parser, values in by_parser.values():
        parser.prefetch(ctx, values)


def import_execute(job: ImportJob, *, commit: bool, progress=None) -> list[RowResult]:
    """Run every row through the spec's row service inside one transaction. The dry run
    (commit=False) always rolls back; the commit rolls back when any row fails."""
    spec = import_spec(job.spec_key)
    actor = job.user
    spec.authorize(actor)
    with job.file.open("rb") as fh:
        table = read_table(fh.read(), job.original_name)
    run = _Run(spec, actor, job, commit=commit)
    results: list[RowResult] = []
    with transaction.atomic():
        rows = iter(table.rows)
        while chunk := list(islice(rows, BATCH)):
            for result in run.chunk(chunk):
                results.append(result)
                if progress and len(results) % PROGRESS_EVERY == 0:
                    progress(len(results))
        if not commit or any(r.fate in PROBLEMS for r in results):
            transaction.set_rollback(True)
    return results


class _Run:
    """One pass over a file's rows: parse, match, and hand each row to the row service
    (or to the spec's bulk writer, for new records)."""

    def __init__(self, spec: ImportSpec, actor, job: ImportJob, *, commit: bool):
        self.spec, self.actor, self.commit = spec, actor, commit
        self.targets = spec.targets(actor)
        self.columns = [
            (i, self.targets[name])
            for i, name in enumerate(job.mapping)
            if name in self.targets
        ]
        self.match = next((m for m in spec.match_keys if m.name == job.match_key), None)
        self.key_label = str(self.match.label) if self.match else ""
        self.ctx = Context(actor=actor)
        self.first_row: dict[str, int] = {}  # key -> the row that used it first
        self.bulk = spec.bulk_writer(actor=actor)
        self.pending: list[tuple[RowResult, dict]] = []  # added to the bulk writer

    def chunk(self, chunk) -> list[RowResult]:
        _prefetch(chunk, self.columns, self.ctx)
        parsed = []
        for number, cells in chunk:
            data, kids, errors = _parse_row(cells, self.columns, self.targets, self.ctx)
            key = (
                _normalize_key(data.get(self.match.field), self.match)
                if self.match
                else ""
            )
            parsed.append((number, data, kids, errors, key))
        found = {}
        if self.match:
            keys = {p[4] for p in parsed if p[4]}
            found = _find_existing(self.spec, self.actor, self.match, keys)
        if self.bulk is not None:
            self.bulk.prefetch([p[1] for p in parsed if not (p[4] and p[4] in found)])
        results = [self.row(*p, found.get(p[4]) if p[4] else None) for p in parsed]
        self.flush()
        return results

    def row(self, number, data, kids, errors, key, existing) -> RowResult:
        match = self.match
        result = RowResult(
            row=number,
            fate=ERROR,
            key=str(data.get(match.field, "")) if match else "",
            errors=list(errors),
        )
        if key and key in self.first_row:
            result.fate, result.duplicate_of = DUPLICATE, self.first_row[key]
            result.errors.insert(
                0,
                [
                    self.key_label,
                    _("Same %(key)s as row %(row)s.")
                    % {"key": self.key_label, "row": self.first_row[key]},
                ],
            )
            return result
        if key:
            self.first_row[key] = number
        if existing == "hidden":
            result.errors.append(
                [
                    self.key_label,
                    _("“%(value)s” is already used by another record.")
                    % {"value": result.key},
                ]
            )
        elif existing == "many":
            result.errors.append(
                [
                    self.key_label,
                    _("Several records have this %(key)s; choose another match key.")
                    % {"key": self.key_label},
                ]
            )
        elif existing is None:
            result.errors.extend(self.missing(data, errors))
        result.errors.extend(self.children(data, kids))
        if result.errors:
            return result
        if self.pending and self.spec.reads_earlier_rows(data):
            self.flush()
        try:
            self.spec.prepare_row(
                actor=self.actor, data=data, existing=existing, ctx=self.ctx
            )
        except (DomainError, ValidationError) as exc:
            result.errors = _error_list(exc, self.targets, self.spec.model)
            return result
        if existing is not None:
            data.pop(match.field, None)  # the key identifies the record; it stays
            result.record = {"pk": existing.pk, "repr": str(existing)[:200]}
            if self.spec.is_unchanged(existing, data):
                result.fate = UNCHANGED
                return result
        if existing is None and self.bulk is not None and self.bulk.accepts(data):
            try:
                self.bulk.add(data)
            except (DomainError, ValidationError) as exc:
                result.errors = _error_list(exc, self.targets, self.spec.model)
                return result
            result.fate = NEW
            self.pending.append((result, data))
            if len(self.pending) >= BATCH:
                self.flush()
            return result
        self.flush()  # rows are written in the file's order
        self.write_one(result, data, existing)
        return result

    def write_one(self, result: RowResult, data: dict, existing) -> None:
        """Write one row through the row service, in a savepoint of its own."""
        try:
            with transaction.atomic():
                obj = self.spec.row_service(
                    actor=self.actor, data=data, existing=existing
                )
        except (DomainError, ValidationError, IntegrityError, DataError) as exc:
            if isinstance(exc, Conflict) and existing is not None:
                result.errors = [["", _("Someone else changed this record meanwhile.")]]
            else:
                result.errors = _error_list(exc, self.targets, self.spec.model)
            return
        finally:
            if self.bulk is not None:
                self.bulk.forget()
        result.fate = UPDATE if existing is not None else NEW
        if self.commit or existing is not None:  # a dry run's new record is gone
            result.record = {"pk": obj.pk, "repr": str(obj)[:200]}

    def flush(self) -> None:
        """Write the rows waiting in the bulk writer. When the database refuses the
        batch (a value taken meanwhile, a constraint), nothing of it stays and its rows
        are written one by one instead: the refused row gets its own error."""
        if not self.pending:
            return
        pending, self.pending = self.pending, []
        try:
            with transaction.atomic():
                records = self.bulk.write()
        except (DomainError, ValidationError, IntegrityError, DataError):
            for result, data in pending:
                result.fate = ERROR
                self.write_one(result, data, None)
            return
        for (result, _data), obj in zip(pending, records, strict=True):
            if self.commit:  # a dry run's new record is gone
                result.record = {"pk": obj.pk, "repr": str(obj)[:200]}

    def missing(self, data: dict, errors: list) -> list[list[str]]:
        """Fields a new record needs, unless their cell already has an error."""
        failed = {label for label, _reason in errors}
        result = []
        for f in self.spec.fields:
            target = self.targets.get(f.name)
            label = target.label if target else str(f.label)
            if f.required and data.get(f.name) in (None, "") and label not in failed:
                result.append([label, _("Required for a new record.")])
        return result

    def children(self, data: dict, kids: dict) -> list[list[str]]:
        """Each filled group of child columns becomes one item of data[child name]."""
        errors = []
        for child in self.spec.children:
            groups = kids.get(child.name, {})
            items = []
            for index in sorted(groups):
                item = groups[index]
                for f in child.fields:
                    if f.required and item.get(f.name) in (None, ""):
                        target = self.targets.get(f"{child.name}.{index}.{f.name}")
                        label = target.label if target else str(f.label)
                        errors.append([label, _("Required.")])
                items.append(item)
            if groups:
                data[child.name] = items
        return errors


def summarize(results: list[RowResult]) -> dict:
    counts = {fate: 0 for fate in FATES}
    for r in results:
        counts[r.fate] += 1
    counts["problems"] = counts[DUPLICATE] + counts[ERROR]
    return counts


# The job: upload, configure, check (dry run), commit


def import_upload(*, actor, key: str, upload) -> ImportJob:
    """Store an uploaded file and read its headers; the mapping is suggested from them."""
    spec = import_spec(key)
    spec.authorize(actor)
    if upload is None:
        raise Invalid(_("Choose a file."), fields={"file": [_("Choose a file.")]})
    max_bytes = setting("CRM_IMPORT_MAX_BYTES", MAX_BYTES)
    if upload.size > max_bytes:
        raise Invalid(
            _("The file is larger than %(mb)s MB.") % {"mb": max_bytes // 1024 // 1024}
        )
    data = upload.read()
    name = os.path.basename(upload.name or "upload")[:200]
    table = read_table(data, name)
    targets = spec.targets(actor)
    mapping = suggest_mapping(table.headers, targets)
    # The first match key the file has a column for (else the first one).
    match_keys = [
        m for m in spec.available_match_keys(actor) if m.field in mapping
    ] or spec.available_match_keys(actor)
    job = ImportJob(
        user=actor,
        spec_key=key,
        original_name=name,
        file_format=table.file_format,
        headers=table.headers,
        samples=[
            [_sample(c) for c in cells[: len(table.headers)]]
            for _n, cells in table.rows[:3]
        ],
        mapping=mapping,
        match_key=match_keys[0].name if match_keys else "",
        total=len(table.rows),
    )
    job.file.save(f"{key.replace('.', '-')}-{name}", ContentFile(data), save=False)
    job.save()
    return job


def _sample(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    return str(value)[:60]


def import_job_get(*, actor, key: str, pk: int) -> ImportJob:
    """A user's own import job (nobody else's: they hold the user's data)."""
    try:
        return ImportJob.objects.get(pk=pk, spec_key=key, user=actor)
    except ImportJob.DoesNotExist:
        raise NotFound(_("Not found.")) from None


def import_configure(*, actor, job: ImportJob, mapping: list[str], match_key: str):
    """Save the column mapping and match key; a new mapping needs a new dry run."""
    spec = import_spec(job.spec_key)
    spec.authorize(actor)
    if job.status not in (ImportJob.Status.UPLOADED, ImportJob.Status.CHECKED):
        raise Conflict(_("This import is running or finished."))
    targets = spec.targets(actor)
    errors: dict[str, list[str]] = {}
    mapping = [m if m in targets else "" for m in mapping[: len(job.headers)]]
    mapping += [""] * (len(job.headers) - len(mapping))
    seen: dict[str, int] = {}
    for index, name in enumerate(mapping):
        if not name:
            continue
        if name in seen:
            errors[f"column_{index}"] = [
                _("“%(field)s” is already taken by column %(col)s.")
                % {"field": targets[name].label, "col": seen[name] + 1}
            ]
        seen.setdefault(name, index)
    if not seen:
        errors["mapping"] = [_("Map at least one column.")]
    keys = {m.name: m for m in spec.available_match_keys(actor)}
    if keys:
        match = keys.get(match_key)
        if match is None:
            errors["match_key"] = [_("Choose how rows find existing records.")]
        elif match.field not in seen:
            errors["match_key"] = [
                _("Map a column to “%(field)s” to match on it.")
                % {"field": targets[match.field].label}
            ]
    if errors:
        raise Invalid(next(iter(errors.values()))[0], fields=errors)
    with transaction.atomic():
        locked = ImportJob.objects.select_for_update().get(pk=job.pk)
        if locked.status not in (ImportJob.Status.UPLOADED, ImportJob.Status.CHECKED):
            raise Conflict(_("This import is running or finished."))
        locked.mapping, locked.match_key = mapping, match_key if keys else ""
        locked.status, locked.summary, locked.done = ImportJob.Status.UPLOADED, {}, 0
        locked.save(
            update_fields=[
                "mapping",
                "match_key",
                "status",
                "summary",
                "done",
                "updated_at",
            ]
        )
    return locked


def _start(*, actor, job: ImportJob, allowed, status) -> tuple[ImportJob, bool]:
    """Move the job to CHECKING/IMPORTING once (a double click starts nothing twice);
    returns (job, in_background)."""
    spec = import_spec(job.spec_key)
    spec.authorize(actor)
    background = job.total > setting("CRM_IMPORT_SYNC_LIMIT", SYNC_LIMIT)
    with transaction.atomic():
        locked = ImportJob.objects.select_for_update().get(pk=job.pk)
        if locked.status not in allowed:
            raise Conflict(_("This import is running or finished."))
        if status == ImportJob.Status.IMPORTING and locked.summary.get("problems", 1):
            raise Invalid(
                _("The dry run found problems. Correct the file and upload it again.")
            )
        locked.status, locked.done, locked.error = status, 0, ""
        locked.save(update_fields=["status", "done", "error", "updated_at"])
        if background:
            mode = "commit" if status == ImportJob.Status.IMPORTING else "check"
            transaction.on_commit(lambda: _dispatch(locked.pk, mode))
    if not background:
        import_run(
            locked.pk, "commit" if status == ImportJob.Status.IMPORTING else "check"
        )
        locked.refresh_from_db()
    return locked, background


def import_check(*, actor, job: ImportJob) -> tuple[ImportJob, bool]:
    """Dry run: every row's fate, nothing stored. Large files run in the background."""
    return _start(
        actor=actor,
        job=job,
        allowed=(ImportJob.Status.UPLOADED, ImportJob.Status.CHECKED),
        status=ImportJob.Status.CHECKING,
    )


def import_commit(*, actor, job: ImportJob) -> tuple[ImportJob, bool]:
    """Import for real, all or nothing, after a dry run without problems."""
    return _start(
        actor=actor,
        job=job,
        allowed=(ImportJob.Status.CHECKED,),
        status=ImportJob.Status.IMPORTING,
    )


def _dispatch(job_id: int, mode: str) -> None:
    from crm.core.tasks import run_import

    run_import.delay(job_id, mode)


def import_run(job_id: int, mode: str) -> ImportJob:
    """Execute a started job (in the request or in a Celery worker) and store its results."""
    job = ImportJob.objects.select_related("user").get(pk=job_id)
    commit = mode == "commit"
    job.worker = f"{socket.gethostname()}:{os.getpid()}"[:128]
    job.save(update_fields=["worker", "updated_at"])

    def progress(done: int) -> None:
        cache.set(_progress_key(job.pk), done, 3600)

    try:
        results = import_execute(job, commit=commit, progress=progress)
    except DomainError as exc:
        _fail(job, exc.message)
        return job
    except Exception as exc:
        _fail(job, _("The import stopped on an unexpected error: %(e)s") % {"e": exc})
        raise
    finally:
        cache.delete(_progress_key(job.pk))
    summary = summarize(results)
    payload = json.dumps([r.as_dict() for r in results], ensure_ascii=False)
    if job.report:
        job.report.delete(save=False)
    job.report.save(
        f"import-{job.pk}-{mode}.json", ContentFile(payload.encode()), save=False
    )
    job.summary, job.done = summary, len(results)
    if commit:
        job.status = (
            ImportJob.Status.FAILED if summary["problems"] else ImportJob.Status.DONE
        )
        if summary["problems"]:
            job.error = _("Nothing was imported: %(n)s rows have problems.") % {
                "n": summary["problems"]
            }
        job.finished_at = timezone.now()
    else:
        job.status = ImportJob.Status.CHECKED
    job.save()
    return job


def _fail(job: ImportJob, message: str) -> None:
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.FAILED,
        error=str(message)[:2000],
        finished_at=timezone.now(),
        updated_at=timezone.now(),
    )
    job.refresh_from_db()


def job_results(job: ImportJob) -> list[dict]:
    """Each row's fate from the last dry run or commit."""
    if not job.report:
        return []
    with job.report.open("rb") as fh:
        return json.loads(fh.read().decode())


def import_error_report(job: ImportJob) -> bytes:
    """An xlsx listing each bad row: its row number, the field, the reason, and the row's
    cells as they were in the file (neutralised against formula injection)."""
    from openpyxl import Workbook

    table = None
    try:
        with job.file.open("rb") as fh:
            table = read_table(fh.read(), job.original_name)
    except (DomainError, OSError):
        table = None  # the file is gone: the report still lists rows and reasons
    cells_by_row = dict(table.rows) if table else {}
    headers = table.headers if table else []
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=str(_("Errors"))[:31])
    sheet.append(
        [_("Row"), _("Result"), _("Field"), _("Reason"), *[str(h) for h in headers]]
    )
    for result in job_results(job):
        if result["fate"] not in PROBLEMS:
            continue
        cells = [export_value(c) for c in cells_by_row.get(result["row"], [])]
        for label, reason in result.get("errors") or [["", ""]]:
            sheet.append(
                [
                    result["row"],
                    str(FATE_LABELS[result["fate"]]),
                    export_value(label),
                    export_value(reason),
                    *cells,
                ]
            )
    buf = io.BytesIO()
    workbook.save(buf)
    return buf.getvalue()


def import_template(spec: ImportSpec, user) -> bytes:
    """An empty workbook with one column per field the user may import."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=str(spec.title)[:31] or "import")
    sheet.append([t.label for t in spec.targets(user).values()])
    buf = io.BytesIO()
    workbook.save(buf)
    return buf.getvalue()
