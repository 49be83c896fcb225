"""Shared fixtures: the tiny scenario is simulated once per session, and its night is run once."""

from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from tests.support import free_port, run_night_on, simulate_into


@pytest.fixture(scope="session")
def tiny_sources(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("tiny")
    simulate_into(directory, "tiny")
    return directory


@pytest.fixture(scope="session")
def tiny_night(tiny_sources, tmp_path_factory) -> Path:
    """The warehouse after the nightly job ran on the tiny scenario."""
    work = tmp_path_factory.mktemp("tiny_night")
    warehouse = work / "warehouse.duckdb"
    assert run_night_on(tiny_sources, warehouse, work / "dagster_home"), "the tiny night failed"
    return warehouse


# --- an SMTP server on loopback, for the alert tests (tests/alerts and the nights with a source down) ---------


class _Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content, policy=default_policy)))
        return "250 OK"


@pytest.fixture
def smtp_server():
    """An SMTP server on loopback (aiosmtpd, no TLS): (controller, inbox) with inbox.messages."""
    inbox = _Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, inbox
    controller.stop()
