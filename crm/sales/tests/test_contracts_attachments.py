"""S4 contract attachments: type checked by extension and content (a disguised program
is refused), size limit, storage through the storage API under a random name, download
only through a view that checks the contract's scope (page and API), removal rights."""

import io
import zipfile

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from crm.core.errors import Conflict, Forbidden, Invalid, NotFound
from crm.core.scopes import DataScope
from crm.org.tests.factories import UserFactory, make_role
from crm.sales.models import ContractAttachment
from crm.sales.services import contracts as services

pytest_plugins = ["crm.sales.tests.contracts_fixtures"]
pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 32
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 64


def _zip(**members) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in members.items():
            archive.writestr(name.replace("__", "/"), content)
    return buffer.getvalue()


def _xlsx() -> bytes:
    book = Workbook()
    book.active["A1"] = "回款计划"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


DOCX = _zip(
    **{"[Content_Types].xml": "<Types/>", "word__document.xml": "<w:document/>"}
)


def upload(name, content, content_type="application/octet-stream"):
    return SimpleUploadedFile(name, content, content_type=content_type)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def contract(make_draft):
    return make_draft()


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("扫描件.pdf", PDF, "application/pdf"),
        ("签字页.JPG", JPG, "image/jpeg"),
        ("签字页.jpeg", JPG, "image/jpeg"),
        ("盖章.png", PNG, "image/png"),
        (
            "附件.docx",
            DOCX,
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        (
            "回款.xlsx",
            _xlsx(),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
        ("图纸.zip", _zip(a="1"), "application/zip"),
    ],
)
def test_allowed_files_are_stored_under_a_random_name(
    contract, deal_org, name, content, expected, media
):
    attachment = services.contract_attachment_add(
        actor=deal_org.rep_a,
        contract=contract,
        upload=upload(name, content, "text/plain"),  # the client's type is ignored
    )
    assert attachment.name == name
    assert attachment.content_type == expected
    assert attachment.size == len(content)
    assert attachment.uploaded_by == deal_org.rep_a
    stored = attachment.file.name
    assert stored.startswith("contracts/")
    assert name not in stored
    assert default_storage.exists(stored)
    with default_storage.open(stored, "rb") as handle:
        assert handle.read() == content


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("合同.pdf", EXE),  # a program renamed .pdf
        ("合同.pdf", PNG),  # an image renamed .pdf
        ("合同.docx", _zip(a="1")),  # a zip that is no Word document
        ("合同.xlsx", DOCX),  # a Word document renamed .xlsx
        ("合同.zip", b"PK\x03\x04garbage"),  # a broken zip
        ("setup.exe", EXE),
        ("合同", PDF),  # no extension
        ("脚本.html", b"<script>alert(1)</script>"),
    ],
)
def test_disguised_or_other_files_are_refused(contract, deal_org, name, content, media):
    with pytest.raises(Invalid) as refused:
        services.contract_attachment_add(
            actor=deal_org.rep_a,
            contract=contract,
            upload=upload(name, content, "application/pdf"),
        )
    assert "file" in refused.value.fields
    assert not ContractAttachment.objects.exists()
    assert not any(media.rglob("*.*"))


def test_size_limit(contract, deal_org, settings, english):
    settings.CRM_CONTRACT_ATTACHMENT_MAX_BYTES = 1024 * 1024
    just = PDF + b"0" * (1024 * 1024 - len(PDF))
    services.contract_attachment_add(
        actor=deal_org.rep_a, contract=contract, upload=upload("a.pdf", just)
    )
    with pytest.raises(Invalid) as refused:
        services.contract_attachment_add(
            actor=deal_org.rep_a,
            contract=contract,
            upload=upload("b.pdf", just + b"0"),
        )
    assert refused.value.message == "The file is larger than 1.0 MB."
    with pytest.raises(Invalid):
        services.contract_attachment_add(
            actor=deal_org.rep_a, contract=contract, upload=upload("c.pdf", b"")
        )


def test_the_default_limit_is_20_mb(settings):
    if hasattr(settings, "CRM_CONTRACT_ATTACHMENT_MAX_BYTES"):
        del settings.CRM_CONTRACT_ATTACHMENT_MAX_BYTES
    assert services.attachment_max_bytes() == 20 * 1024 * 1024


def test_a_path_in_the_file_name_is_dropped(contract, deal_org):
    attachment = services.contract_attachment_add(
        actor=deal_org.rep_a,
        contract=contract,
        upload=upload("../../etc/合同.pdf", PDF),
    )
    assert attachment.name == "合同.pdf"


def test_attaching_needs_scope_and_permission(contract, deal_org):
    with pytest.raises(NotFound):
        services.contract_attachment_add(
            actor=deal_org.rep_b, contract=contract, upload=upload("a.pdf", PDF)
        )
    viewer = UserFactory(
        department=deal_org.east,
        roles=[make_role("合同查看", "sales.view_contract", scope=DataScope.ALL)],
    )
    with pytest.raises(Forbidden):
        services.contract_attachment_add(
            actor=viewer, contract=contract, upload=upload("a.pdf", PDF)
        )


def test_delete_by_uploader_or_change_permission_not_once_completed(
    contract, deal_org, django_capture_on_commit_callbacks
):
    viewer = UserFactory(
        department=deal_org.east,
        roles=[make_role("合同查看", "sales.view_contract", scope=DataScope.ALL)],
    )
    first = services.contract_attachment_add(
        actor=deal_org.rep_a, contract=contract, upload=upload("a.pdf", PDF)
    )
    with pytest.raises(Forbidden):
        services.contract_attachment_delete(actor=viewer, attachment=first)
    with pytest.raises(NotFound):
        services.contract_attachment_delete(actor=deal_org.rep_b, attachment=first)
    stored = first.file.name
    with django_capture_on_commit_callbacks(execute=True):
        services.contract_attachment_delete(actor=deal_org.manager, attachment=first)
    assert not ContractAttachment.objects.filter(pk=first.pk).exists()
    assert not default_storage.exists(stored)
    second = services.contract_attachment_add(
        actor=deal_org.rep_a, contract=contract, upload=upload("b.pdf", PDF)
    )
    type(contract).objects.filter(pk=contract.pk).update(status="completed")
    with pytest.raises(Conflict):
        services.contract_attachment_delete(actor=deal_org.rep_a, attachment=second)
    with pytest.raises(Conflict):
        services.contract_attachment_add(
            actor=deal_org.rep_a, contract=contract, upload=upload("c.pdf", PDF)
        )


def test_history_records_attachments(contract, deal_org):
    services.contract_attachment_add(
        actor=deal_org.rep_a, contract=contract, upload=upload("扫描件.pdf", PDF)
    )
    from crm.core.audit import history_for

    event = history_for(contract)[0]
    assert event.note == "attachment added"
    assert [v[1] for v in event.changes.values()] == ["扫描件.pdf"]


# Pages and API


def test_upload_on_the_page_and_download_in_scope(contract, deal_org, client_for):
    client = client_for(deal_org.rep_a)
    response = client.post(
        f"/sales/contracts/{contract.pk}/attachments/",
        {"file": upload("扫描件.pdf", PDF, "application/pdf")},
    )
    assert response.status_code == 302
    attachment = ContractAttachment.objects.get()
    url = f"/sales/contracts/{contract.pk}/attachments/{attachment.pk}/"
    page = client.get(f"/sales/contracts/{contract.pk}/")
    assert url in page.content.decode()
    assert "/media/" not in page.content.decode()
    response = client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert client_for(deal_org.manager).get(url).status_code == 200
    assert client_for(deal_org.rep_b).get(url).status_code == 404
    assert client_for(deal_org.rep_c).get(url).status_code == 404
    # Another contract's id in the path does not reach the file either.
    other = type(contract).objects.create(
        number="HT-OTHER",
        title="x",
        customer=contract.customer,
        owner=deal_org.rep_a,
        department=deal_org.east,
    )
    wrong = f"/sales/contracts/{other.pk}/attachments/{attachment.pk}/"
    assert client.get(wrong).status_code == 404


def test_a_disguised_upload_on_the_page_is_refused(
    contract, deal_org, client_for, english
):
    client = client_for(deal_org.rep_a)
    response = client.post(
        f"/sales/contracts/{contract.pk}/attachments/",
        {"file": upload("合同.pdf", EXE, "application/pdf")},
        follow=True,
    )
    assert not ContractAttachment.objects.exists()
    assert "The content of this file is not a .pdf file." in response.content.decode()


def test_api_upload_list_download_delete(contract, deal_org, client_for):
    client = client_for(deal_org.rep_a)
    base = f"/api/v1/sales/contracts/{contract.pk}/attachments/"
    refused = client.post(base, {"file": upload("合同.pdf", EXE, "application/pdf")})
    assert refused.status_code == 400
    assert "file" in refused.json()["fields"]
    created = client.post(base, {"file": upload("签字页.png", PNG, "image/png")})
    assert created.status_code == 201
    body = created.json()
    assert (body["name"], body["content_type"], body["size"]) == (
        "签字页.png",
        "image/png",
        len(PNG),
    )
    listed = client.get(base).json()
    assert [a["id"] for a in listed] == [body["id"]]
    download = client.get(f"{base}{body['id']}/download/")
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PNG
    other = client_for(deal_org.rep_b)
    assert other.get(f"{base}{body['id']}/download/").status_code == 404
    assert other.get(base).status_code == 404
    assert other.delete(f"{base}{body['id']}/").status_code == 404
    assert client.delete(f"{base}{body['id']}/").status_code == 204
    assert not ContractAttachment.objects.exists()
