"""Webhooks: journal events POSTed, signed, to receivers by ``manage.py deliver_webhooks``."""
