"""Alerts as OASIS CAP 1.2 XML: encode, decode (lossless) and validate against the schema.

The mapping (see docs/federation.md for the table):

- ``identifier`` is the alert version's key ``<alert_id>#<version>``, ``sender`` the origin node;
  ``references`` lists earlier versions in CAP form ``sender,identifier,sent``.
- ``scope`` is always ``Restricted`` and ``restriction`` carries the TLP 2.0 label
  (``TLP:AMBER``); the same label is repeated as the ``TLP`` parameter.
- One ``info`` block: ``category`` Infra and Other, ``urgency``/``severity``/``certainty``
  mapped from the level (:data:`LEVEL_TO_CAP`), item, supplier and importer as ``eventCode``
  pairs (``EWS:hs``, ``EWS:supplier``, ``EWS:importer``), the rest of the record as
  ``parameter`` pairs (``EWS:alertId``, ``EWS:version``, ``EWS:level``, ``EWS:score``,
  ``EWS:onset``, ``EWS:itemName``, ``EWS:recipient``, ``EWS:evidence`` as JSON, ...);
  ``headline`` and ``description`` are the alert's headline and summary; evidence links are
  also given as ``resource`` elements for people.
- CAP times have whole seconds and a ``±hh:mm`` offset; sub-second parts travel in
  ``EWS:sentMicroseconds`` / ``EWS:expiresMicroseconds`` so nothing is lost.

Reading is defensive: a size limit before parsing, no DTDs (so no entity expansion bombs and no
external entities), no network, the root must be a CAP 1.2 ``alert`` and the document must
validate against the schema. Every refusal is an :class:`~ews.errors.InputError` with a reason.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from functools import lru_cache
from importlib import resources
from typing import Final

from lxml import etree
from pydantic import ValidationError

from ews.alerts.records import LEVELS, TLPS, Alert, Evidence, Level
from ews.errors import InputError

CAP_NS: Final = "urn:oasis:names:tc:emergency:cap:1.2"
CAP11_NS: Final = "urn:oasis:names:tc:emergency:cap:1.1"
SCHEMA_FILE: Final = "CAP-v1.2.xsd"
MAX_CAP_BYTES: Final = 1_000_000
"""Largest CAP message read; an EWS alert with 8 evidence items is under 20 kB."""

P: Final = "EWS:"
EVENT_CODES: Final = ("hs", "supplier", "importer")

# Level -> (urgency, severity, certainty, responseType). Korea's crisis scale read as CAP:
# 'attention' and 'caution' are about what may come, 'alert' expects harm, 'serious' is here.
LEVEL_TO_CAP: Final[dict[Level, tuple[str, str, str, str]]] = {
    "normal": ("Past", "Minor", "Unlikely", "AllClear"),
    "attention": ("Future", "Minor", "Possible", "Monitor"),
    "caution": ("Future", "Moderate", "Possible", "Monitor"),
    "alert": ("Expected", "Severe", "Likely", "Prepare"),
    "serious": ("Immediate", "Extreme", "Likely", "Prepare"),
}

# What CAP forbids in identifiers and sender (4.2 of the standard): spaces, commas, < and &.
_CAP_TOKEN = re.compile(r"^[^\s,<&]+$")
# Links safe as xs:anyURI: RFC 3986 characters, '%' only as a percent-escape.
_LINK = re.compile(r"^https?://(?:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})+$")


def _q(tag: str) -> str:
    return f"{{{CAP_NS}}}{tag}"


@lru_cache(maxsize=1)
def cap_schema() -> etree.XMLSchema:
    """The CAP 1.2 schema shipped with the package, loaded once."""
    text = resources.files("ews.alerts.schema").joinpath(SCHEMA_FILE).read_bytes()
    return etree.XMLSchema(etree.fromstring(text, _safe_parser()))


def _safe_parser() -> etree.XMLParser:
    # No entity resolution, no DTD loading, no network and libxml2's size guards on: the
    # standard defences against entity bombs and XXE (we also refuse any DTD after parsing).
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        huge_tree=False,
        load_dtd=False,
        dtd_validation=False,
    )


# -- time ---------------------------------------------------------------------------------------
def cap_time(value: dt.datetime) -> str:
    """``YYYY-MM-DDThh:mm:ss±hh:mm`` as CAP requires: whole seconds, no ``Z``.

    Offsets that are not whole minutes are converted to UTC (the instant is unchanged).
    """
    if value.tzinfo is None:
        raise InputError("CAP times need a timezone", field="sent")
    offset = value.utcoffset() or dt.timedelta(0)
    if offset.total_seconds() % 60:
        value = value.astimezone(dt.UTC)
    text = value.replace(microsecond=0).isoformat()
    return text.replace("Z", "+00:00")


def parse_cap_time(text: str, field: str) -> dt.datetime:
    """Read a CAP time back; refuses a missing offset."""
    try:
        value = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise InputError(f"not a CAP time: {text!r}", field=field) from None
    if value.tzinfo is None:
        raise InputError(f"CAP time without offset: {text!r}", field=field)
    return value


# -- encode -------------------------------------------------------------------------------------
def _sub(parent: etree._Element, tag: str, text: str | None = None) -> etree._Element:
    el = etree.SubElement(parent, _q(tag))
    if text is not None:
        try:
            el.text = text
        except ValueError:  # lxml refuses control characters XML 1.0 cannot carry
            raise InputError("text holds characters XML 1.0 cannot carry", field=tag) from None
    return el


def _pair(parent: etree._Element, tag: str, name: str, value: str) -> None:
    el = _sub(parent, tag)
    _sub(el, "valueName", name)
    _sub(el, "value", value)


def _token(value: str, field: str) -> str:
    if not _CAP_TOKEN.match(value):
        raise InputError(
            f"{value!r} cannot be a CAP token (no spaces, commas, '<' or '&')", field=field
        )
    return value


def encode(alert: Alert, ref_sent: Mapping[str, dt.datetime] | None = None) -> bytes:
    """The alert as CAP 1.2 XML bytes (UTF-8), valid against the schema.

    ``ref_sent`` gives the ``sent`` time of referenced versions (by ``<alert_id>#<version>``),
    which CAP references need; a version it does not know is dated at the episode's onset
    (midnight UTC), which is when the lifecycle issues version 1.
    """
    ref_sent = ref_sent or {}
    _token(alert.alert_id, "alert_id")
    sender = _token(alert.origin_node, "origin_node")
    root = etree.Element(_q("alert"), nsmap={None: CAP_NS})
    _sub(root, "identifier", _token(alert.key, "alert_id"))
    _sub(root, "sender", sender)
    _sub(root, "sent", cap_time(alert.sent))
    _sub(root, "status", "Actual")
    _sub(root, "msgType", alert.msg_type)
    _sub(root, "scope", "Restricted")
    _sub(root, "restriction", f"TLP:{alert.tlp}")
    if alert.references:
        onset = dt.datetime.combine(alert.onset, dt.time(0), tzinfo=dt.UTC)
        refs = [
            f"{sender},{_token(ref, 'references')},{cap_time(ref_sent.get(ref, onset))}"
            for ref in alert.references
        ]
        _sub(root, "references", " ".join(refs))

    info = _sub(root, "info")
    _sub(info, "language", "en")
    _sub(info, "category", "Infra")
    _sub(info, "category", "Other")
    _sub(info, "event", f"Supply risk: {alert.item_name}")
    urgency, severity, certainty, response = LEVEL_TO_CAP[alert.level]
    _sub(info, "responseType", "AllClear" if alert.msg_type == "Cancel" else response)
    _sub(info, "urgency", urgency)
    _sub(info, "severity", severity)
    _sub(info, "certainty", certainty)
    for code in EVENT_CODES:
        value = getattr(alert, code)
        if value is not None:
            _pair(info, "eventCode", P + code, value)
    # The onset day starts at midnight in the sender's zone (the zone of ``sent``).
    _sub(info, "onset", cap_time(dt.datetime.combine(alert.onset, dt.time(0), alert.sent.tzinfo)))
    if alert.expires is not None:
        _sub(info, "expires", cap_time(alert.expires))
    _sub(info, "senderName", f"EWS node {alert.origin_node}")
    _sub(info, "headline", alert.headline)
    _sub(info, "description", alert.summary)

    params: list[tuple[str, str]] = [
        (P + "alertId", alert.alert_id),
        (P + "version", str(alert.version)),
        (P + "level", alert.level),
        (P + "score", repr(float(alert.score))),
        (P + "onset", alert.onset.isoformat()),
        (P + "itemName", alert.item_name),
        ("TLP", alert.tlp),
    ]
    if alert.previous_level is not None:
        params.append((P + "previousLevel", alert.previous_level))
    if alert.sent.microsecond:
        params.append((P + "sentMicroseconds", str(alert.sent.microsecond)))
    if alert.expires is not None and alert.expires.microsecond:
        params.append((P + "expiresMicroseconds", str(alert.expires.microsecond)))
    params += [(P + "recipient", r) for r in alert.recipients]
    params += [(P + "evidence", e.model_dump_json(exclude_none=True)) for e in alert.evidence]
    for name, value in params:
        _pair(info, "parameter", name, value)
    for e in alert.evidence:
        if e.link and _LINK.match(e.link):
            res = _sub(info, "resource")
            _sub(res, "resourceDesc", e.summary or e.kind)
            _sub(res, "mimeType", "text/html")
            _sub(res, "uri", e.link)

    data: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    # Our own output must be valid: a failure here is a bug, not bad input.
    if not cap_schema().validate(root):
        raise AssertionError(f"encoded CAP does not validate: {cap_schema().error_log}")
    return data


# -- decode -------------------------------------------------------------------------------------
def parse_cap(
    data: bytes, *, max_bytes: int = MAX_CAP_BYTES, source: str | None = None
) -> etree._Element:
    """Parse and schema-validate CAP 1.2 bytes; returns the root ``alert`` element.

    Refuses (with :class:`InputError`) input over ``max_bytes``, malformed XML, any DTD or
    entity declaration, a root that is not a CAP 1.2 ``alert`` and schema violations.
    """
    if not isinstance(data, bytes | bytearray):
        raise InputError("CAP input must be bytes", file=source)
    if len(data) > max_bytes:
        raise InputError(
            f"message is {len(data):,} bytes, more than the {max_bytes:,} allowed", file=source
        )
    try:
        root = etree.fromstring(bytes(data), _safe_parser())
    except (etree.XMLSyntaxError, ValueError) as exc:
        raise InputError(f"malformed XML: {exc}", file=source) from None
    if root is None:
        raise InputError("malformed XML: empty document", file=source)
    docinfo = root.getroottree().docinfo
    if docinfo.internalDTD is not None or docinfo.externalDTD is not None or docinfo.doctype:
        raise InputError("DTD and entity declarations are not allowed in CAP messages", file=source)
    tag = root.tag if isinstance(root.tag, str) else repr(root.tag)
    if tag != _q("alert"):
        qname = etree.QName(root) if isinstance(root.tag, str) else None
        if qname is not None and qname.namespace == CAP11_NS:
            why = "CAP 1.1 namespace; only CAP 1.2 is accepted"
        elif qname is not None and qname.localname == "alert":
            why = f"wrong namespace {qname.namespace or '(none)'!r}, expected {CAP_NS!r}"
        else:
            why = f"root element is {tag!r}, expected a CAP 1.2 'alert'"
        raise InputError(f"not a CAP 1.2 message: {why}", file=source)
    schema = cap_schema()
    if not schema.validate(root):
        error = schema.error_log.last_error
        detail = f"line {error.line}: {error.message}" if error else "invalid"
        raise InputError(f"does not validate against the CAP 1.2 schema: {detail}", file=source)
    return root


def _text(parent: etree._Element, tag: str) -> str | None:
    el = parent.find(_q(tag))
    if el is None:
        return None
    return el.text or ""


def _pairs(info: etree._Element, tag: str) -> list[tuple[str, str]]:
    out = []
    for el in info.findall(_q(tag)):
        out.append((_text(el, "valueName") or "", _text(el, "value") or ""))
    return out


def _single(
    pairs: list[tuple[str, str]], name: str, *, required: bool, source: str | None
) -> str | None:
    found = [v for n, v in pairs if n == name]
    if len(found) > 1:
        raise InputError(f"'{name}' given {len(found)} times", file=source, field=name)
    if not found:
        if required:
            raise InputError(f"not an EWS alert: '{name}' is missing", file=source, field=name)
        return None
    return found[0]


def _micro(value: dt.datetime, extra: str | None, field: str, source: str | None) -> dt.datetime:
    if extra is None:
        return value
    if not extra.isdigit() or not 0 < int(extra) < 1_000_000:
        raise InputError(f"bad microseconds {extra!r}", file=source, field=field)
    return value.replace(microsecond=int(extra))


def decode(data: bytes, *, max_bytes: int = MAX_CAP_BYTES, source: str | None = None) -> Alert:
    """Read an EWS alert from CAP 1.2 XML; the inverse of :func:`encode`.

    Raises :class:`InputError` naming the reason for anything it refuses.
    """
    root = parse_cap(data, max_bytes=max_bytes, source=source)
    msg_type = _text(root, "msgType") or ""
    if msg_type not in ("Alert", "Update", "Cancel"):
        raise InputError(f"msgType {msg_type!r} is not an alert message", file=source)
    infos = root.findall(_q("info"))
    if not infos:
        raise InputError("not an EWS alert: no 'info' block", file=source)
    info = infos[0]
    params = _pairs(info, "parameter")
    codes = _pairs(info, "eventCode")

    def param(name: str, required: bool = True) -> str | None:
        return _single(params, P + name, required=required, source=source)

    tlp = _single(params, "TLP", required=True, source=source)
    restriction = _text(root, "restriction")
    if restriction != f"TLP:{tlp}":
        raise InputError(
            f"restriction {restriction!r} does not match the TLP parameter {tlp!r}",
            file=source,
            field="restriction",
        )
    if tlp not in TLPS:
        raise InputError(f"unknown TLP {tlp!r}", file=source, field="TLP")

    alert_id = param("alertId") or ""
    version_text = param("version") or ""
    if not version_text.isdigit():
        raise InputError(f"version {version_text!r} is not a number", file=source, field="version")
    identifier = _text(root, "identifier")
    if identifier != f"{alert_id}#{int(version_text)}":
        raise InputError(
            f"identifier {identifier!r} does not match EWS:alertId/EWS:version",
            file=source,
            field="identifier",
        )
    references: list[str] = []
    for ref in (_text(root, "references") or "").split():
        parts = ref.split(",")
        if len(parts) != 3:
            raise InputError(f"reference {ref!r} is not 'sender,identifier,sent'", file=source)
        references.append(parts[1])

    level = param("level")
    if level not in LEVELS:
        raise InputError(f"unknown level {level!r}", file=source, field="EWS:level")
    sent = parse_cap_time(_text(root, "sent") or "", "sent")
    sent = _micro(sent, param("sentMicroseconds", required=False), "sent", source)
    expires_text = _text(info, "expires")
    expires = None
    if expires_text is not None:
        expires = parse_cap_time(expires_text, "expires")
        expires = _micro(expires, param("expiresMicroseconds", required=False), "expires", source)
    score_text = param("score") or ""
    try:
        score = float(score_text)
    except ValueError:
        raise InputError(f"score {score_text!r} is not a number", file=source) from None
    try:
        evidence = tuple(Evidence.model_validate_json(v) for n, v in params if n == P + "evidence")
        return Alert(
            alert_id=alert_id,
            version=int(version_text),
            msg_type=msg_type,  # checked above
            hs=_single(codes, P + "hs", required=True, source=source),
            item_name=param("itemName"),
            supplier=_single(codes, P + "supplier", required=False, source=source),
            importer=_single(codes, P + "importer", required=False, source=source),
            level=level,
            previous_level=param("previousLevel", required=False),
            score=score,
            headline=_text(info, "headline") or "",
            summary=_text(info, "description") or "",
            evidence=evidence,
            references=tuple(references),
            tlp=tlp,  # checked above
            recipients=tuple(v for n, v in params if n == P + "recipient"),
            origin_node=_text(root, "sender") or "",
            onset=dt.date.fromisoformat(param("onset") or ""),
            sent=sent,
            expires=expires,
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(x) for x in first["loc"])
        raise InputError(f"invalid alert: {first['msg']}", file=source, field=where) from None
    except ValueError as exc:
        raise InputError(f"invalid alert: {exc}", file=source) from None
