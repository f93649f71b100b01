"""Slash commands in issue comments: the grammar, one declaration per command, who may run
what, and what each command does to the request (pure: no I/O, no clock of its own).

A command changes the status comment's state (an approval, new dates, a cancellation) or
the assignees and says what to reply; the shell (``bot.service.commanding``) then runs the same
plan every other trigger runs, so the status comment and labels follow from the new state.
``/help`` and the README's command table are rendered from the declarations below, so
they cannot drift from what the bot does.

The package splits them by concern: ``grammar`` (where a comment holds commands),
``roles`` (who is asking), ``handlers`` (what each command does) and ``declarations``
(the table of commands, who may run each, and deciding a comment in order).
"""

from .declarations import (
    BY_NAME,
    COMMAND_NAMES,
    COMMANDS,
    CommentOutcome,
    allowed,
    commands_table,
    decide,
    decide_all,
    form_dates,
    help_reply,
    lookups_needed,
    parse_commands,
    who_may,
)
from .grammar import MAX_COMMANDS, Invocation
from .handlers import MAX_ASSIGNEES, MAX_REASON, Command, Context, Result, UsageError
from .roles import LOOKED_UP, ROLE_TITLES, WRITER_PERMISSIONS, Role, is_writer, known_roles

__all__ = [
    "BY_NAME", "COMMANDS", "COMMAND_NAMES", "LOOKED_UP", "MAX_ASSIGNEES", "MAX_COMMANDS",
    "MAX_REASON", "ROLE_TITLES", "WRITER_PERMISSIONS", "Command", "CommentOutcome",
    "Context", "Invocation", "Result", "Role", "UsageError", "allowed", "commands_table",
    "decide", "decide_all", "form_dates", "help_reply", "is_writer", "known_roles",
    "lookups_needed", "parse_commands", "who_may",
]
