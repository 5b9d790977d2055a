"""WhatsApp "Export chat" files in, open formats out.

parse   the .txt/.zip of the phone's "Export chat" (Android and iOS, their locale variants)
load    staging parsed messages into the store: stable ids, merge with synced history
export  messages and contacts to JSON, JSONL, Markdown, CSV and vCard
"""
