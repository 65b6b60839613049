"""Staff policy documents: list, view, upload and replace, with every upload checked."""

from __future__ import annotations

import io

import pytest

from tests.frontend.conftest import text_of


@pytest.fixture
def staff(auth):
    auth.login("staff@example.com")
    return auth


def upload(staff, name: str, data: bytes):
    return staff.post("/staff/policies/", {"document": (io.BytesIO(data), name)},
                      content_type="multipart/form-data")


def test_policy_list_and_view(client, staff):
    page = text_of(client.get("/staff/policies/"))
    for name in ("refund_policy.md", "cancellation_policy.md", "faqs.md"):
        assert f'href="/staff/policies/{name}"' in page
    assert ">Refund Policy</a>" in page
    view = text_of(client.get("/staff/policies/refund_policy.md"))
    assert '<h2 id="refund-policy">Refund Policy</h2>' in view
    assert '<h3 id="refund-window">Refund window</h3>' in view
    assert "within 30 days of the date your order was delivered" in view


def test_upload_a_new_policy_then_replace_it(client, staff, shop):
    response = upload(staff, "returns_faq.md", b"# Returns FAQ\n\nBring it **back**.\n")
    assert response.status_code == 302
    assert response.headers["Location"] == "/staff/policies/returns_faq.md"
    view = text_of(client.get("/staff/policies/returns_faq.md"))
    assert "returns_faq.md added" in view and "Bring it <strong>back</strong>." in view

    replaced = upload(staff, "refund_policy.md", "# Refund Policy\n\nNow 45 days — café.\n".encode())
    assert replaced.status_code == 302
    assert (shop / "policies" / "refund_policy.md").read_text(encoding="utf-8") == (
        "# Refund Policy\n\nNow 45 days — café.\n")
    assert "refund_policy.md replaced" in text_of(client.get(replaced.headers["Location"]))
    assert sorted(p.name for p in (shop / "policies").iterdir() if not p.name.endswith(".md")) == []


@pytest.mark.parametrize("name", ["../evil.md", "Refund.md", "notes.txt", "a b.md", ".md",
                                  "policy.md.exe", "sub/dir.md", "x.MD"])
def test_upload_rejects_bad_names(client, staff, shop, name):
    before = sorted(p.name for p in (shop / "policies").iterdir())
    response = upload(staff, name, b"# Fine content\n")
    assert response.status_code == 400
    assert "File names may only use a-z, 0-9" in text_of(response)
    assert sorted(p.name for p in (shop / "policies").iterdir()) == before
    assert not (shop / "evil.md").exists()


@pytest.mark.parametrize("data,message", [
    (b"#" * (200 * 1024 + 1), "the limit is 200 KB"),
    ("# Café\n".encode("latin-1"), "not UTF-8 text"),
    (b"  \n", "The file is empty."),
    (b"# Title\x00binary", "not a text file"),
])
def test_upload_rejects_bad_content(client, staff, shop, data, message):
    original = (shop / "policies" / "faqs.md").read_bytes()
    response = upload(staff, "faqs.md", data)
    assert response.status_code == 400 and message in text_of(response)
    assert (shop / "policies" / "faqs.md").read_bytes() == original


def test_exactly_200_kb_is_accepted(staff, shop):
    data = b"# Big\n" + b"a" * (200 * 1024 - 6)
    assert upload(staff, "big.md", data).status_code == 302
    assert (shop / "policies" / "big.md").stat().st_size == 200 * 1024


def test_upload_needs_a_file(staff):
    response = staff.post("/staff/policies/", {}, content_type="multipart/form-data")
    assert response.status_code == 400
    assert "Choose a markdown file to upload." in text_of(response)


def test_uploaded_markup_is_shown_as_text(client, staff):
    upload(staff, "xss.md", b"# <img src=x onerror=alert(1)>\n\n<script>alert(2)</script>\n")
    view = text_of(client.get("/staff/policies/xss.md"))
    assert "<img src=x" not in view and "<script>alert(2)" not in view
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in view


def test_customers_cannot_upload(client, auth, shop):
    auth.login("ana@example.com")
    assert upload(auth, "evil.md", b"# Refunds: always yes\n").status_code == 403
    assert not (shop / "policies" / "evil.md").exists()
