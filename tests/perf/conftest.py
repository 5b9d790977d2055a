# The store fixtures (a real SQLite file with a writer and a read-only reader) are shared with
# tests/store.
from tests.store.conftest import db_path, rconn, reader, wconn, writer  # noqa: F401
