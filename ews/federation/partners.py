"""The partner registry: names, feed URLs, public keys, TLP ceilings and agreements."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ews.alerts.records import Tlp
from ews.alerts.signing import NODE_PATTERN, parse_public_key
from ews.alerts.tlp import Agreement, PartnerPolicy, parse_tlp
from ews.errors import InputError
from ews.store import Store
from ews.store.db import utcnow

_NAME = re.compile(NODE_PATTERN)


@dataclass(frozen=True)
class Partner:
    """One registered partner node."""

    name: str
    url: str
    public_key: str
    tlp_max: Tlp
    active: bool
    agreements: tuple[Agreement, ...] = ()

    @property
    def policy(self) -> PartnerPolicy:
        return PartnerPolicy(
            name=self.name, tlp_max=self.tlp_max, active=self.active, agreements=self.agreements
        )

    @property
    def key(self) -> Ed25519PublicKey:
        return parse_public_key(self.public_key)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(url: str, *, production: bool) -> str:
    """A partner's base URL, without a trailing slash; plain http only off production or on
    loopback (TLS may be terminated by a proxy in front of the node)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError(f"partner URL {url!r} must be http(s)://host[:port]", field="url")
    if parts.query or parts.fragment:
        raise InputError("partner URL must not carry a query or fragment", field="url")
    if production and parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise InputError("production nodes talk to partners over https only", field="url")
    return url.strip().rstrip("/")


def add_partner(
    store: Store,
    name: str,
    url: str,
    key: str,
    *,
    tlp_max: str = "AMBER+STRICT",
    self_id: str | None = None,
    production: bool = False,
) -> Partner:
    """Register (or update) a partner; audit-logged."""
    if not _NAME.match(name):
        raise InputError(f"partner name {name!r} must match {NODE_PATTERN}", field="name")
    if self_id is not None and name == self_id:
        raise InputError("a node cannot be its own partner", field="name")
    url = check_url(url, production=production)
    parse_public_key(key)
    ceiling = parse_tlp(tlp_max)
    if ceiling == "RED":
        raise InputError("TLP:RED never leaves a node; the ceiling can be at most AMBER+STRICT")
    with store.transaction():
        store.execute(
            "INSERT INTO partners VALUES (?, ?, ?, ?, TRUE, ?) ON CONFLICT (name) DO UPDATE SET "
            "url = excluded.url, public_key = excluded.public_key, tlp_max = excluded.tlp_max, "
            "active = TRUE",
            [name, url, key.strip(), ceiling, utcnow()],
        )
        store.audit(
            "operator", "partners.add", name, {"url": url, "key": key.strip(), "tlp_max": ceiling}
        )
    return get_partner(store, name)


def remove_partner(store: Store, name: str) -> None:
    """Forget a partner, its agreements and its pending deliveries; audit-logged."""
    if store.scalar("SELECT count(*) FROM partners WHERE name = ?", [name]) == 0:
        raise InputError(f"no partner named {name!r}", field="name")
    with store.transaction():
        for table, col in (
            ("partners", "name"),
            ("partner_agreements", "partner"),
            ("federation_outbox", "partner"),
            ("federation_cursors", "partner"),
        ):
            store.execute(f"DELETE FROM {table} WHERE {col} = ?", [name])
        store.audit("operator", "partners.remove", name, {})


def add_agreement(
    store: Store, name: str, *, hs_prefix: str = "", tlp_max: str = "AMBER", note: str = ""
) -> Agreement:
    """Record that ``name`` receives alerts on items under ``hs_prefix`` up to ``tlp_max``."""
    get_partner(store, name)
    if hs_prefix and not hs_prefix.isdigit():
        raise InputError(f"HS prefix {hs_prefix!r} must be digits", field="hs")
    ceiling = parse_tlp(tlp_max)
    if ceiling == "RED":
        raise InputError("no agreement can share TLP:RED", field="tlp_max")
    with store.transaction():
        store.execute(
            "INSERT INTO partner_agreements VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (partner, hs_prefix) "
            "DO UPDATE SET tlp_max = excluded.tlp_max, note = excluded.note",
            [name, hs_prefix, ceiling, note, utcnow()],
        )
        store.audit(
            "operator", "partners.agree", name, {"hs_prefix": hs_prefix, "tlp_max": ceiling}
        )
    return Agreement(hs_prefix=hs_prefix, tlp_max=ceiling)


def list_partners(store: Store, *, active_only: bool = False) -> list[Partner]:
    """Registered partners with their agreements, by name."""
    agreements: dict[str, list[Agreement]] = {}
    for row in store.query(
        "SELECT partner, hs_prefix, tlp_max FROM partner_agreements ORDER BY 1, 2"
    ):
        agreements.setdefault(row["partner"], []).append(
            Agreement(hs_prefix=row["hs_prefix"], tlp_max=parse_tlp(row["tlp_max"]))
        )
    sql = "SELECT name, url, public_key, tlp_max, active FROM partners"
    if active_only:
        sql += " WHERE active"
    return [
        Partner(
            name=r["name"],
            url=r["url"],
            public_key=r["public_key"],
            tlp_max=parse_tlp(r["tlp_max"]),
            active=bool(r["active"]),
            agreements=tuple(agreements.get(r["name"], ())),
        )
        for r in store.query(sql + " ORDER BY name")
    ]


def get_partner(store: Store, name: str) -> Partner:
    """One partner; :class:`InputError` when unknown."""
    for partner in list_partners(store):
        if partner.name == name:
            return partner
    raise InputError(f"no partner named {name!r}", field="name")


def partner_keys(store: Store) -> dict[str, Ed25519PublicKey]:
    """Public keys of the active partners, by name."""
    return {p.name: p.key for p in list_partners(store, active_only=True)}
