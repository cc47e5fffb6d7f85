"""A real SMTP server on loopback (aiosmtpd) that records what it receives.

The ``smtp`` fixture (registered in tests/conftest.py) yields the handler and a matching
``SmtpConfig``; ``handler.refuse`` holds addresses to bounce with 550.
"""

from __future__ import annotations

import email
import socket
from collections.abc import Iterator
from email.message import Message
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from app.services import mail


class Handler:
    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.refuse: set[str] = set()

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any) -> str:  # noqa: N802
        if address in self.refuse:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[tuple[Handler, mail.SmtpConfig]]:
    handler = Handler()
    ctl = Controller(handler, hostname="127.0.0.1", port=free_port())
    ctl.start()
    try:
        yield handler, mail.SmtpConfig(host="127.0.0.1", port=ctl.port, sender="buyer@depot.example", timeout=5)
    finally:
        ctl.stop()
