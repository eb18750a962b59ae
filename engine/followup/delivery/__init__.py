"""Delivery: channels and the plugins that bring them, the outbox's dispatcher, daily
digests, and the settings channels read."""
