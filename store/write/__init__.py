"""Writes to the store, split by job: message ingest; reactions, edits, deletes and receipts;
the contact directory and LID mapping (the bridge's one `StoreWriter` is assembled from them
in `store/writer.py`)."""
