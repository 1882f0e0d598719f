"""vCards as servers and phones write them, read into contacts."""

from __future__ import annotations

import pytest
from carddav_vcard import UNNAMED, UnreadableCard, read_contact, read_contacts


def card(*lines: str, version: str = "3.0") -> str:
    return "\r\n".join(["BEGIN:VCARD", f"VERSION:{version}", *lines, "END:VCARD", ""])


def test_preferred_values_come_first_and_each_comes_once() -> None:
    contact = read_contact(
        "a.vcf",
        card(
            "FN:Ana Lima",
            "EMAIL;TYPE=INTERNET:ana@home.example",
            "EMAIL;TYPE=INTERNET,PREF:ana@work.example",
            "EMAIL:ANA@home.example",
            "TEL;TYPE=HOME:+55 11 3333 4444",
            "TEL;TYPE=CELL,pref:+55 11 91234 5678",
        ),
    )

    assert contact.emails == ("ana@work.example", "ana@home.example")
    assert contact.phones == ("+55 11 91234 5678", "+55 11 3333 4444")


def test_vcard_4_uris_are_read_as_plain_values() -> None:
    contact = read_contact(
        "b.vcf",
        card(
            "FN:Wei Chen",
            "TEL;VALUE=uri;PREF=1:tel:+44-20-7946-0018;ext=12",
            "EMAIL:mailto:wei@example.com",
            "PHOTO:data:image/png;base64,iVBORw0KGgo=",
            version="4.0",
        ),
    )

    assert contact.phones == ("+44-20-7946-0018",)
    assert contact.emails == ("wei@example.com",)
    assert contact.photo_url is None


@pytest.mark.parametrize(
    ("photo", "expected"),
    [
        ("PHOTO;VALUE=uri:https://img.example/a.jpg", "https://img.example/a.jpg"),
        ("PHOTO;VALUE=uri:HTTP://img.example/a.jpg", "HTTP://img.example/a.jpg"),
        ("PHOTO;VALUE=uri:javascript:alert(1)", None),
        ("PHOTO;VALUE=uri:file:///etc/passwd", None),
        ("PHOTO;VALUE=uri:https:///no-host", None),
        ("PHOTO;VALUE=uri:https://img.example/a b.jpg", None),
    ],
)
def test_only_http_and_https_photos_are_kept(photo: str, expected: str | None) -> None:
    assert read_contact("c.vcf", card("FN:P", photo)).photo_url == expected


def test_websites_keep_web_addresses_and_complete_bare_host_names() -> None:
    contact = read_contact(
        "d.vcf",
        card("FN:W", "URL:www.acme.example", "URL:javascript:alert(1)", "URL:https://x.example/"),
    )

    assert contact.websites == ("https://www.acme.example", "https://x.example/")


def test_organization_title_and_address() -> None:
    contact = read_contact(
        "e.vcf",
        card(
            "FN:Søren Ørsted",
            "ORG:Initech\\; Ltd;Support",
            "TITLE:Support lead",
            "ADR;TYPE=HOME:;;Elm St 1;Oslo;;0150;Norway",
            "ADR;TYPE=WORK,PREF:;Floor 3;Main St 2\\nBuilding B;Bergen;Vestland;5003;Norway",
        ),
    )

    assert contact.company == "Initech; Ltd"
    assert contact.title == "Support lead"
    assert contact.address == "Floor 3, Main St 2 Building B, Bergen, Vestland 5003, Norway"


@pytest.mark.parametrize(
    ("lines", "name"),
    [
        (("FN:", "N:Nakamura;Hiro;;Dr.;"), "Dr. Hiro Nakamura"),
        (("FN:", "N:;;;;", "ORG:Lonely Org"), "Lonely Org"),
        (("FN:", "EMAIL:only@mail.example"), "only@mail.example"),
        (("FN:", "TEL:+1 415 555 0100"), "+1 415 555 0100"),
        (("FN:",), UNNAMED),
    ],
)
def test_a_name_is_always_found(lines: tuple[str, ...], name: str) -> None:
    assert read_contact("f.vcf", card(*lines)).name == name


def test_quoted_printable_cards_of_old_phones_are_read() -> None:
    text = card("FN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:Jos=C3=A9 Mu=C3=B1oz", version="2.1")

    assert read_contact("g.vcf", text).name == "José Muñoz"


def test_what_is_no_vcard_is_left_out_and_the_rest_kept(caplog: pytest.LogCaptureFixture) -> None:
    with pytest.raises(UnreadableCard):
        read_contact("h.vcf", "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")

    contacts = read_contacts([("bad.vcf", "not a vcard at all"), ("ok.vcf", card("FN:Ok"))])

    assert [each.id for each in contacts] == ["ok.vcf"]
    assert "bad.vcf" in caplog.text
    assert "not a vcard" not in caplog.text
