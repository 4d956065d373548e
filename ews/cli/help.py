"""Help that reads as plain English: ``--format [table|json]``, ``--store TEXT``, a flag
with no type at all.

Typer's rich help (0.29) puts a type tag beside every option and argument, flags and
``--help`` included (``--include-cancelled <bool>``, ``--store <str>``): Python's names for
types, which a reader of ``ews --help`` should not need to know. The command classes here
show instead what to type: nothing for a flag, the choices for a choice, the familiar
upper-case nouns of command-line help otherwise; an option's own ``metavar`` wins.
:func:`plain_help` gives every command and group of an app these classes.
"""

from __future__ import annotations

import typer
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption
from typer.models import DefaultPlaceholder

# Typer's tags (without their angle brackets) and what help says instead.
_NOUNS = {
    "str": "TEXT",
    "int": "INTEGER",
    "float": "NUMBER",
    "path": "PATH",
    "file": "FILE",
    "directory": "DIRECTORY",
    "datetime": "DATE",
}


def _noun(tag: str) -> str:
    bare = tag.strip("<>")
    if bare.startswith("list[") and bare.endswith("]"):
        return _noun(bare[5:-1]) + "..."
    if "|" in bare:
        return f"[{bare}]"  # the choices
    return _NOUNS.get(bare, bare.upper())


class _PlainOption(TyperOption):
    def display_type_rich(self, ctx: typer.Context) -> str | None:  # type: ignore[override]
        if self.metavar is not None:
            return self.metavar
        if self.is_flag or self.count:
            return None
        return _noun(self.display_type(ctx))


class _PlainArgument(TyperArgument):
    def display_type_rich(self, ctx: typer.Context) -> str | None:  # type: ignore[override]
        # The argument's name (ALERT_ID, ID...) already says what to type.
        return None


def _plain(params: list[object]) -> None:
    for param in params:
        if type(param) is TyperOption:
            param.__class__ = _PlainOption
        elif type(param) is TyperArgument:
            param.__class__ = _PlainArgument


class PlainCommand(TyperCommand):
    """A command whose help shows plain types (see the module)."""

    def format_help(self, ctx: typer.Context, formatter: object) -> None:  # type: ignore[override]
        _plain(list(self.get_params(ctx)))
        super().format_help(ctx, formatter)  # type: ignore[arg-type]


class PlainGroup(TyperGroup):
    """A group whose help shows plain types (see the module)."""

    def format_help(self, ctx: typer.Context, formatter: object) -> None:  # type: ignore[override]
        _plain(list(self.get_params(ctx)))
        super().format_help(ctx, formatter)  # type: ignore[arg-type]


def _default(cls: object, typer_class: type) -> bool:
    """Whether ``cls`` is Typer's own class (given or left unset), not one chosen for it."""
    if isinstance(cls, DefaultPlaceholder):
        cls = cls.value
    return cls is None or cls is typer_class


def plain_help(app: typer.Typer) -> None:
    """Give ``app``, its commands and its sub-apps, all the way down, plain help."""
    if _default(app.info.cls, TyperGroup):
        app.info.cls = PlainGroup
    for command in app.registered_commands:
        if _default(command.cls, TyperCommand):
            command.cls = PlainCommand
    for group in app.registered_groups:
        if _default(group.cls, TyperGroup):
            group.cls = PlainGroup
        if group.typer_instance is not None:
            plain_help(group.typer_instance)
