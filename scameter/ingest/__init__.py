"""Ingest: read reports, feeds, allowlists and delistings; apply policy; publish snapshots."""
