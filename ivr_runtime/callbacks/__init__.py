"""Callbacks: scheduled calls back to callers, placed within opening hours and retried."""
