"""The inbox: where a partner's signed alert is verified, stored and audited, once for every way in.

A signed message reaches this node four ways: pushed to the node's HTTP inbox
(:mod:`ews.api.node`), pulled from a partner's feed (:func:`ews.federation.exchange.pull_partner`),
read from a stream (:mod:`ews.stream.alerts`) or imported from a file (``ews import``,
:func:`import_file`). Each calls :func:`accept`, which checks the message against the partner
registry (:func:`~ews.alerts.signing.open_message`: size, signature against the sender's
registered key, addressing, validity window, origin, no TLP:RED), stores its alert version with
:func:`~ews.alerts.repository.save_alert` (idempotent by ``alert_id#version``) and writes what
happened to the audit log: the outcome (stored or duplicate) or the refusal and its reason.

The ways in differ only where their delivery differs; :func:`accept` takes those differences
as parameters (see its docstring) so each caller states its own.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from ews.alerts import cap, wire
from ews.alerts.records import Alert, alert_origin
from ews.alerts.repository import SaveOutcome, load_alert, save_alert
from ews.alerts.signing import Rejected, open_message
from ews.errors import InputError
from ews.federation.node import Node
from ews.federation.partners import partner_keys
from ews.store import Store

Nonces = Literal["consume", "ignore"]


def utc(now: dt.datetime) -> dt.datetime:
    """Naive UTC, as the store keeps timestamps."""
    return now.astimezone(dt.UTC).replace(tzinfo=None)


def audit_refusal(store: Store, rej: Rejected, via: str, subject: str = "") -> None:
    """Write a refused message or request to the audit log (``federation.reject``) with its
    reason, the sender it claimed and the way it came; the subject is the claimed sender
    unless given."""
    store.audit(
        "federation",
        "federation.reject",
        subject or (rej.sender or "unknown"),
        {"reason": rej.reason, "message": rej.message, "claimed_sender": rej.sender, "via": via},
    )


def use_nonce(
    store: Store, sender: str, nonce: str, expires: dt.datetime, now: dt.datetime
) -> None:
    """Remember a nonce; :class:`Rejected` (replayed) when the sender used it before."""
    seen = store.scalar(
        "SELECT count(*) FROM federation_nonces WHERE sender = ? AND nonce = ?", [sender, nonce]
    )
    if seen:
        raise Rejected("replayed", f"nonce {nonce} was already used", sender=sender)
    store.execute(
        "INSERT INTO federation_nonces VALUES (?, ?, ?, ?)", [sender, nonce, utc(expires), utc(now)]
    )


def check_owner(store: Store, me: str, alert: Alert, sender: str) -> None:
    """Refuse a version ``sender`` may not issue: :class:`Rejected` ``own_alert``,
    ``not_origin`` or ``legacy_id``.

    An alert belongs to the node that raised it, and only that node issues its versions:

    - an id's node part (``<episode>@<node>``) must be the sender, and the alert's
      ``origin_node`` (the record itself checks the two agree) (``not_origin``);
    - no other node writes into this node's alerts (``own_alert``), whatever the id says;
    - a legacy id (no node part, from before ids were namespaced) continues only an episode
      this store already holds from the sender: the owner is the ``origin_node`` of the stored
      version 1 (else of the newest stored version). This node's own legacy alerts are
      ``own_alert``, another partner's ``not_origin``, and an episode not held at all is
      ``legacy_id``: new episodes travel under namespaced ids, so nobody can claim an id
      another node will compute later.
    """
    if alert.origin_node == me:
        raise Rejected("own_alert", f"{alert.key} is an alert of this node ({me})", sender=sender)
    owner = alert_origin(alert.alert_id)
    if owner is not None:
        if not owner == alert.origin_node == sender:
            raise Rejected(
                "not_origin",
                f"{alert.key} belongs to node {owner!r}; only it issues versions "
                f"(origin_node {alert.origin_node!r}, sent by {sender!r})",
                sender=sender,
            )
        return
    try:
        stored = load_alert(store, alert.alert_id, 1)
    except InputError:
        try:
            stored = load_alert(store, alert.alert_id)
        except InputError:
            raise Rejected(
                "legacy_id",
                f"{alert.alert_id} has no '@<node>' part and this node holds no earlier "
                "version of it; new alerts must use namespaced ids",
                sender=sender,
            ) from None
    if stored.origin_node == me:
        raise Rejected("own_alert", f"{alert.key} is an alert of this node ({me})", sender=sender)
    if stored.origin_node != sender or alert.origin_node != sender:
        raise Rejected(
            "not_origin",
            f"{alert.alert_id} was raised by {stored.origin_node!r}; only it issues versions "
            f"(sent by {sender!r})",
            sender=sender,
        )


@dataclass(frozen=True)
class Received:
    """What the inbox did with one accepted message."""

    outcome: SaveOutcome
    key: str
    sender: str


def accept(
    store: Store,
    node: Node,
    message: bytes | dict[str, Any],
    *,
    via: str,
    now: dt.datetime,
    nonces: Nonces,
    max_lifetime: dt.timedelta | None = None,
    action: Literal["federation.receive", "stream.receive"] = "federation.receive",
) -> Received:
    """Verify a signed message addressed to this node and store its alert version once.

    Audits the outcome as ``action`` (actor: the sender; subject: ``alert_id#version``; detail:
    outcome, ``via``, nonce, TLP). Raises :class:`Rejected`, after auditing it as
    ``federation.reject`` with the reason, for unsigned, malformed, too large, unknown-sender,
    forged or altered, misaddressed, expired, replayed or conflicting messages, and for a
    version its sender may not issue (:func:`check_owner`: ``own_alert``, ``not_origin``,
    ``legacy_id``); nothing of such a message is stored, its nonce included.

    What differs between the ways in, and why:

    ``nonces``
        ``"consume"`` for direct deliveries (push, pull, import of a signed file): a message
        is delivered once, so a nonce seen before is a replay and refused (``replayed``);
        expired nonces are forgotten after each accepted message. ``"ignore"`` for a stream,
        which redelivers a message after a crash or a lost acknowledgement and must then
        store nothing rather than refuse it; a replay can only repeat a version its sender
        signed, and storage by version makes that a no-op.
    ``max_lifetime``
        The longest validity window accepted. None (direct deliveries, read within minutes of
        sealing) keeps :func:`~ews.alerts.signing.open_message`'s limit; a stream, read late,
        passes its message lifetime (``EWS_STREAM_MESSAGE_TTL``).
    ``action``
        The audit action of an accepted message: ``federation.receive`` for direct
        deliveries, ``stream.receive`` for a stream, so the log keeps telling them apart.
    """
    cfg = node.config
    open_ = functools.partial(
        open_message,
        me=node.node_id,
        key_of=partner_keys(store).get,
        now=now,
        skew=cfg.clock_skew,
        max_bytes=cfg.max_message_bytes,
    )
    try:
        opened = (
            open_(message) if max_lifetime is None else open_(message, max_lifetime=max_lifetime)
        )
        env, alert = opened.envelope, opened.alert
        try:
            with store.transaction():
                check_owner(store, node.node_id, alert, env.sender)
                if nonces == "consume":
                    use_nonce(store, env.sender, env.nonce, env.expires, now)
                outcome = save_alert(store, alert)
                store.audit(
                    env.sender,
                    action,
                    alert.key,
                    {"outcome": outcome, "via": via, "nonce": env.nonce, "tlp": alert.tlp},
                )
        except Rejected:  # a replayed nonce is refused as a replay, not as a conflict
            raise
        except InputError as exc:  # a different record under a stored version
            raise Rejected("conflict", exc.message, sender=env.sender) from None
    except Rejected as rej:
        audit_refusal(store, rej, via)
        raise
    if nonces == "consume":
        store.execute(
            "DELETE FROM federation_nonces WHERE expires_at < ?", [utc(now - cfg.clock_skew)]
        )
    return Received(outcome=outcome, key=alert.key, sender=env.sender)


@dataclass(frozen=True)
class Imported:
    """What ``ews import`` did with one file."""

    key: str
    outcome: SaveOutcome
    kind: Literal["cap", "json", "signed"]
    sender: str | None = None
    """The partner that signed the message (signed files only)."""

    def summary(self) -> str:
        if self.kind == "signed":
            return f"{self.key} from {self.sender}: signature verified, {self.outcome}"
        return f"{self.key} ({self.kind}): {self.outcome}"


def _read_bounded(path: Path, limit: int) -> bytes:
    """The file's bytes; :class:`~ews.errors.InputError` when it holds more than ``limit``
    (read at most ``limit`` + 1 bytes, whatever its size says: a device, a growing file) or
    cannot be read."""
    try:
        size = path.stat().st_size
        if size > limit:
            raise InputError(f"file is {size:,} bytes, more than the {limit:,} allowed", file=path)
        with path.open("rb") as fh:
            data = fh.read(limit + 1)
    except OSError as exc:
        raise InputError(f"cannot read the file: {exc.strerror or exc}", file=path) from None
    if len(data) > limit:
        raise InputError(f"file holds more than the {limit:,} bytes allowed", file=path)
    return data


def import_file(node: Node, path: Path, *, now: dt.datetime) -> Imported:
    """Store the alert version of one file: CAP 1.2 XML, alert JSON or a signed message.

    A signed message goes through :func:`accept` as a direct delivery (signature, addressing,
    window, nonce), with ``via`` ``import:<file name>``. An unsigned file is stored and audited
    as ``alerts.import`` by the operator, except when its alert comes from a registered
    partner: partners' alerts are accepted only with their signature, so that is refused
    (``unsigned``, audited). :class:`~ews.errors.InputError` for anything unreadable.
    """
    limit = node.config.max_message_bytes
    data = _read_bounded(path, limit)
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    kind: Literal["cap", "json"]
    if head == b"<":
        alert = cap.decode(data, max_bytes=limit, source=str(path))
        kind = "cap"
    else:
        try:  # the limits every message from outside gets: size, UTF-8, nesting depth
            obj = wire.loads(data, max_bytes=limit)
        except wire.WireError as exc:
            raise InputError(
                f"not an alert file (CAP XML or JSON): {exc.detail}", file=path
            ) from None
        if isinstance(obj, dict) and ("envelope" in obj or "signature" in obj):
            with node.store() as store:
                got = accept(store, node, obj, via=f"import:{path.name}", now=now, nonces="consume")
            return Imported(key=got.key, outcome=got.outcome, kind="signed", sender=got.sender)
        try:
            alert = Alert.model_validate(obj)
        except ValueError as exc:
            raise InputError(f"not an alert record: {exc}", file=path) from None
        kind = "json"
    with node.store() as store:
        if alert.origin_node in partner_keys(store):
            rej = Rejected(
                "unsigned",
                f"{alert.key} comes from partner {alert.origin_node}; import its signed message",
                sender=alert.origin_node,
            )
            audit_refusal(store, rej, f"import:{path.name}", alert.key)
            raise rej
        with store.transaction():
            outcome = save_alert(store, alert)
            store.audit(
                "operator",
                "alerts.import",
                alert.key,
                {"file": path.name, "format": kind, "outcome": outcome},
            )
    return Imported(key=alert.key, outcome=outcome, kind=kind)
