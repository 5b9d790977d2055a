"""Media that arrives: downloads into the data dir's media folder, and voice-note transcripts."""
