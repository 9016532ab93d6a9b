"""S10 company news: publishers write and publish announcements; everybody reads the
published ones, pinned first; drafts and scheduled ones stay with the publishers."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.core.errors import Conflict, Forbidden, Invalid
from crm.core.models import AuditEvent
from crm.org import services
from crm.org.home import announcements_panel
from crm.org.models import Announcement
from crm.org.selectors import announcement_queryset
from crm.org.tests.factories import UserFactory, make_role

pytestmark = pytest.mark.django_db


@pytest.fixture
def publisher(org):
    role = make_role(
        "公告发布",
        "org.add_announcement",
        "org.change_announcement",
        "org.delete_announcement",
    )
    return UserFactory(department=org.group, roles=[role])


@pytest.fixture
def reader(org):
    return UserFactory(department=org.east, roles=[make_role("普通员工")])


def _published(publisher, title, *, pinned=False, minutes_ago=0):
    item = services.announcement_create(
        actor=publisher,
        data={"title": title, "body": f"{title}正文", "is_pinned": pinned},
    )
    item = services.announcement_publish(actor=publisher, announcement=item)
    if minutes_ago:
        Announcement.objects.filter(pk=item.pk).update(
            published_at=timezone.now() - datetime.timedelta(minutes=minutes_ago)
        )
    return item


def test_a_new_announcement_is_a_draft_until_published(publisher, reader):
    draft = services.announcement_create(
        actor=publisher, data={"title": "年会通知", "body": "一月十日举行。"}
    )
    assert draft.is_published is False
    assert draft.author == publisher
    assert list(announcement_queryset(actor=reader)) == []
    assert list(announcement_queryset(actor=publisher)) == [draft]

    published = services.announcement_publish(actor=publisher, announcement=draft)
    assert published.is_published is True
    assert published.published_at <= timezone.now()
    assert list(announcement_queryset(actor=reader)) == [published]
    notes = list(
        AuditEvent.objects.filter(
            content_type__model="announcement", object_id=str(draft.pk)
        ).values_list("action", "note")
    )
    assert ("create", "") in notes
    assert ("update", "publish") in notes


def test_publishing_needs_the_permission(org, publisher, reader):
    draft = services.announcement_create(
        actor=publisher, data={"title": "草稿", "body": "内容"}
    )
    with pytest.raises(Forbidden):
        services.announcement_create(actor=reader, data={"title": "x", "body": "y"})
    with pytest.raises(Forbidden):
        services.announcement_publish(actor=reader, announcement=draft)
    writer = UserFactory(roles=[make_role("只写", "org.add_announcement")])
    mine = services.announcement_create(actor=writer, data={"title": "t", "body": "b"})
    with pytest.raises(Forbidden):  # writing is not publishing
        services.announcement_publish(actor=writer, announcement=mine)
    assert not Announcement.objects.filter(is_published=True).exists()


def test_pinned_first_then_newest(publisher, reader):
    old_pinned = _published(publisher, "置顶旧", pinned=True, minutes_ago=600)
    newest = _published(publisher, "最新")
    older = _published(publisher, "较旧", minutes_ago=60)
    assert list(announcement_queryset(actor=reader)) == [old_pinned, newest, older]
    panel = announcements_panel(reader)
    assert [i["title"] for i in panel["items"]] == ["置顶旧", "最新", "较旧"]
    assert panel["items"][0]["status"] == "pinned"


def test_withdrawn_and_scheduled_announcements_are_not_shown(publisher, reader):
    withdrawn = _published(publisher, "撤回")
    services.announcement_publish(
        actor=publisher, announcement=withdrawn, publish=False
    )
    later = services.announcement_create(
        actor=publisher,
        data={
            "title": "定时",
            "body": "明天发布",
            "published_at": timezone.now() + datetime.timedelta(days=1),
        },
    )
    later = services.announcement_publish(actor=publisher, announcement=later)
    assert later.published_at > timezone.now()  # publishing keeps the later time
    assert list(announcement_queryset(actor=reader)) == []
    assert announcements_panel(reader)["items"] == []


def test_update_checks_the_version_and_the_fields(publisher):
    item = services.announcement_create(
        actor=publisher, data={"title": "原标题", "body": "内容"}
    )
    item = services.announcement_update(
        actor=publisher, obj=item, data={"title": "新标题"}, version=item.version
    )
    assert item.title == "新标题"
    with pytest.raises(Conflict):
        services.announcement_update(
            actor=publisher, obj=item, data={"title": "又改"}, version=1
        )
    with pytest.raises(Invalid) as error:
        services.announcement_update(
            actor=publisher,
            obj=item,
            data={"is_published": True},
            version=item.version,
        )
    assert "is_published" in error.value.fields
    with pytest.raises(Invalid) as error:
        services.announcement_create(actor=publisher, data={"title": "", "body": "b"})
    assert "title" in error.value.fields


def test_delete_needs_the_permission(publisher, reader):
    item = _published(publisher, "删除我")
    with pytest.raises(Forbidden):
        services.announcement_delete(actor=reader, announcement=item)
    services.announcement_delete(actor=publisher, announcement=item)
    assert not Announcement.objects.exists()


# Pages


@pytest.mark.usefixtures("english")
def test_everybody_reads_the_published_news(publisher, reader, client_for):
    shown = _published(publisher, "安全生产月")
    draft = services.announcement_create(
        actor=publisher, data={"title": "未发布草稿", "body": "x"}
    )
    client = client_for(reader)
    page = client.get(reverse("org:announcement-list"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "安全生产月" in html
    assert "未发布草稿" not in html
    assert reverse("org:announcement-create") not in html
    detail = client.get(reverse("org:announcement-detail", args=[shown.pk]))
    assert detail.status_code == 200
    assert "安全生产月正文" in detail.content.decode()
    assert (
        client.get(reverse("org:announcement-detail", args=[draft.pk])).status_code
        == 404
    )
    assert client.get(reverse("org:announcement-create")).status_code == 403
    response = client.post(reverse("org:announcement-publish", args=[shown.pk]))
    assert response.status_code == 403
    # The menu offers the news to everybody.
    assert reverse("org:announcement-list") in client.get("/").content.decode()


@pytest.mark.usefixtures("english")
def test_publisher_writes_and_publishes_from_the_form(publisher, client_for):
    client = client_for(publisher)
    assert client.get(reverse("org:announcement-create")).status_code == 200
    invalid = client.post(reverse("org:announcement-create"), {"title": "", "body": ""})
    assert invalid.status_code == 400
    assert not Announcement.objects.exists()
    response = client.post(
        reverse("org:announcement-create"),
        {
            "title": "新产品发布",
            "body": "详见附件。",
            "is_pinned": "on",
            "publish": "1",
        },
    )
    item = Announcement.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("org:announcement-detail", args=[item.pk])
    assert item.is_published
    assert item.is_pinned
    assert item.author == publisher
    stale = client.post(
        reverse("org:announcement-edit", args=[item.pk]),
        {"title": "改", "body": "改", "version": item.version - 1},
    )
    assert stale.status_code == 409
    withdraw = client.post(reverse("org:announcement-withdraw", args=[item.pk]))
    assert withdraw.status_code == 302
    item.refresh_from_db()
    assert item.is_published is False
    client.post(reverse("org:announcement-delete", args=[item.pk]))
    assert not Announcement.objects.exists()


def test_save_and_publish_without_the_publish_permission_saves_nothing(org, client_for):
    writer = UserFactory(roles=[make_role("只写", "org.add_announcement")])
    response = client_for(writer).post(
        reverse("org:announcement-create"),
        {"title": "越权发布", "body": "x", "publish": "1"},
    )
    assert response.status_code == 403
    assert not Announcement.objects.exists()
