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
    """A loopback port nothing listens on right now, for "the server is down" cases only: to run a
    server use ``LoopbackController`` (a port chosen here may be taken before a server binds it)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LoopbackController(Controller):
    """An aiosmtpd Controller on 127.0.0.1 that binds port 0 and reads the port the OS gave back
    into ``port``: no window between choosing a free port and binding it (parallel test runs)."""

    def __init__(self, handler: Any, **kw: Any) -> None:
        super().__init__(handler, hostname="127.0.0.1", port=0, **kw)

    def _create_server(self) -> Any:
        creating = super()._create_server()

        async def bound() -> Any:
            server: Any = await creating  # an asyncio.Server: it has .sockets
            self.port = int(server.sockets[0].getsockname()[1])  # before start() connects to it
            return server

        return bound()


@pytest.fixture
def smtp() -> Iterator[tuple[Handler, mail.SmtpConfig]]:
    handler = Handler()
    ctl = LoopbackController(handler)
    ctl.start()
    try:
        yield handler, mail.SmtpConfig(host="127.0.0.1", port=ctl.port, sender="buyer@depot.example", timeout=5)
    finally:
        ctl.stop()
