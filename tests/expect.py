"""Expectations several test modules share about what the bot says."""

from __future__ import annotations

from bot.core.dates import DateError


def assert_a_sentence_for_the_champion(error: DateError) -> None:
    """The bot's own one-line answer, quoting what was written (or saying nothing was):
    never a library's message leaking through."""
    message = str(error)
    assert "\n" not in message and 0 < len(message) <= 600, message
    assert message.startswith(("`", '""', "no date and time given",
                               "the configured default time zone")), message
