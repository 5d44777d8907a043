"""The SMS channel (a flow run as a text conversation), the outbox that sends texts, and
their delivery statuses."""
