"""A number written with its + (a country or area code like +44) matches by prefix, however
short; bare digits keep matching anywhere in the number."""

from __future__ import annotations

from store.models import ContactRecord
from store.reader import StoreReader
from store.writer import StoreWriter
from tests.store.conftest import msg

UK_1 = "447700900418@s.whatsapp.net"
UK_2 = "447700900265@s.whatsapp.net"
US = "15550144001@s.whatsapp.net"  # contains "44", but does not start with it


def test_plus_prefix_matches_chats_and_contacts_by_country_code(
    writer: StoreWriter, reader: StoreReader
) -> None:
    writer.upsert_contacts(
        [
            ContactRecord(jid=UK_1, saved_name="Tom"),
            ContactRecord(jid=UK_2, saved_name="Priya"),
            ContactRecord(jid=US, saved_name="Sam"),
        ]
    )
    for i, jid in enumerate((UK_1, UK_2, US)):
        writer.ingest_message(msg(f"m{i}", chat=jid, minutes=i))
    assert {c.jid for c in reader.list_chats(query="+44").items} == {UK_1, UK_2}
    assert {c.jid for c in reader.search_contacts("+44").items} == {UK_1, UK_2}
    assert {c.jid for c in reader.list_chats(query="+44 7700 9004").items} == {UK_1}
    assert {c.jid for c in reader.search_contacts("+1").items} == {US}
    # Without the +, digits are a fragment anywhere (three or more of them).
    assert {c.jid for c in reader.list_chats(query="144").items} == {US}
