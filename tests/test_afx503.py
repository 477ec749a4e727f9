"""AFX503: sync Django ORM in coroutines, judged from the Django each install set allows."""

from __future__ import annotations

import pytest

from asgifix.catalogue import load_catalogue, select_rules
from asgifix.config import Settings
from asgifix.engine import Engine

VIEW = """
from asgiref.sync import sync_to_async
from .models import Entry


async def view(request):
    entries = await sync_to_async(Entry.objects.filter)(public=True)
    for entry in entries:
        pass
    obj = await Entry.objects.aget(pk=1)
    obj.save()
    return Entry.objects.filter(a=1).first()
"""


def _findings(tree, files):
    root = tree(files)
    report, _, _ = Engine(Settings(), select_rules(load_catalogue(), ["AFX503"], [])).run([str(root)])
    assert not report.errors
    return [f for f in report.findings if f.code == "AFX503"]


@pytest.mark.parametrize(
    "requirement, severity, hint_part",
    [
        ("Django==4.2.7\n", "error", "await obj.asave()"),
        ("Django==4.1.13\n", "error", "sync_to_async(f)"),  # asave is 4.2+
        ("Django>=2.2,<3.1\n", "warning", "sync_to_async(f)"),  # straddles 3.0
    ],
)
def test_verdict_follows_allowed_django(tree, requirement, severity, hint_part):
    found = _findings(tree, {"requirements.txt": requirement, "app/views.py": VIEW})
    assert [f.span.line for f in found] == [8, 11, 12]
    assert {f.severity for f in found} == {severity}
    save = next(f for f in found if "save" in f.message)
    assert hint_part in save.hint


def test_query_hint_needs_4_1(tree):
    found = _findings(tree, {"requirements.txt": "Django==4.1.13\n", "app/views.py": VIEW})
    first = next(f for f in found if "first" in f.message)
    assert "afirst()" in first.hint
    found = _findings(tree, {"requirements.txt": "Django==4.0.10\n", "app/views.py": VIEW})
    first = next(f for f in found if "first" in f.message)
    assert "afirst" not in first.hint


def test_old_django_not_reported(tree):
    assert _findings(tree, {"requirements.txt": "Django==2.2.28\n", "app/views.py": VIEW}) == []


def test_django_not_declared_is_a_warning(tree):
    found = _findings(tree, {"requirements.txt": "requests\n", "app/views.py": VIEW})
    assert found and {f.severity for f in found} == {"warning"}
    assert all("3.0 and later" in " ".join(f.notes) for f in found)


def test_correct_code_not_reported(tree):
    source = """
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from django.contrib.auth import get_user_model
from .models import Entry


async def view(request):
    qs = Entry.objects.filter(a=1)
    async for e in qs:
        pass
    users = await sync_to_async(list)(get_user_model().objects.filter(is_active=True))
    await database_sync_to_async(lambda: Entry.objects.get(pk=1))()
    def sync_part():
        return Entry.objects.count()
    await sync_to_async(sync_part)()
    total = sum(1 for e in Entry.objects.all())  # consumed where it runs: not judged
    return qs, users, Entry.objects.all()[:5]


def sync_view(request):
    return Entry.objects.get(pk=1)
"""
    assert _findings(tree, {"requirements.txt": "Django==4.2.7\n", "app/views.py": source}) == []
