"""The federation commands: ``ews export`` / ``ews import`` move single alert versions as
files (CAP 1.2, JSON, STIX 2.1, or a signed message); ``ews keys init|show``, ``ews partners``,
``ews node serve`` and ``ews federation sync|status`` run the exchange between partner nodes.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from ews.cli.common import StoreOpt, err, handles_errors, open_node, out
from ews.errors import EwsError
from ews.store.files import write_private


def _write(data: bytes, out_file: Path | None) -> None:
    if out_file is None:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    else:
        write_private(out_file, data)  # an alert, maybe TLP:AMBER: 0600


@handles_errors
def export_cmd(
    alert_id: Annotated[str, typer.Argument(help="Alert id (see 'ews alerts').")],
    version: Annotated[int | None, typer.Option(help="Version (default: newest).")] = None,
    fmt: Annotated[
        str, typer.Option("--format", metavar="[cap|json|stix]", help="cap, json or stix.")
    ] = "cap",
    out_file: Annotated[Path | None, typer.Option("--out", help="File to write.")] = None,
    sign_for: Annotated[
        str | None,
        typer.Option(help="Wrap the alert in a message signed for this partner (json)."),
    ] = None,
    store: StoreOpt = None,
) -> None:
    """Write one alert version as CAP 1.2 XML, JSON or a STIX 2.1 bundle."""
    from ews.alerts import cap
    from ews.alerts.repository import load_alert, sent_times
    from ews.alerts.signing import seal
    from ews.alerts.stix import to_stix
    from ews.alerts.tlp import share_decision
    from ews.federation.partners import get_partner

    if fmt not in ("cap", "json", "stix"):
        raise EwsError(f"unknown format {fmt!r}; use cap, json or stix")
    node = open_node(store)
    with node.store() as st:
        alert = load_alert(st, alert_id, version)
        if alert.tlp == "RED":
            # A file is how an alert leaves the node by hand: RED stays; people on this
            # node read it with `ews explain` or the API (admin keys).
            raise EwsError(f"{alert.key} is TLP:RED, which never leaves this node")
        refs = sent_times(st, alert.references)
        if sign_for is not None:
            partner = get_partner(st, sign_for)
            ok, why = share_decision(alert, partner.policy)
            if not ok:
                raise EwsError(f"{alert.key} may not go to {sign_for}: {why}")
            message = seal(
                alert,
                node.key,
                sender=node.node_id,
                recipient=sign_for,
                now=dt.datetime.now(dt.UTC),
                ttl=node.config.message_ttl,
            )
            st.audit("operator", "federation.export_signed", alert.key, {"partner": sign_for})
    if sign_for is not None:
        data = json.dumps(message, ensure_ascii=False, indent=1).encode() + b"\n"
    elif fmt == "cap":
        data = cap.encode(alert, refs)
    elif fmt == "json":
        data = alert.model_dump_json(indent=1).encode() + b"\n"
    else:
        data = json.dumps(to_stix(alert), ensure_ascii=False, indent=1).encode() + b"\n"
    _write(data, out_file)
    if out_file is not None:
        err.print(f"wrote {alert.key} ({fmt}) to {out_file}", highlight=False)


@handles_errors
def import_cmd(
    file: Annotated[
        Path,
        typer.Argument(exists=True, dir_okay=False, help="CAP XML, alert JSON or signed message."),
    ],
    store: StoreOpt = None,
) -> None:
    """Validate and store an alert version (partners' alerts must be signed)."""
    from ews.federation.inbox import import_file

    result = import_file(open_node(store), file, now=dt.datetime.now(dt.UTC))
    out.print(result.summary(), highlight=False)


@handles_errors
def keys_init(
    force: Annotated[bool, typer.Option(help="Replace an existing key.")] = False,
) -> None:
    """Create this node's Ed25519 key (0600; encrypted when EWS_NODE_KEY_PASSPHRASE is set)."""
    from ews.alerts.signing import fingerprint, generate_key, public_key_text, save_private_key

    node = open_node()
    key = generate_key()
    save_private_key(key, node.config.key_path, node.config.key_passphrase, force=force)
    text = public_key_text(key)
    out.print(f"node {node.node_id}: key written to {node.config.key_path}", highlight=False)
    out.print(text, highlight=False)
    out.print(f"fingerprint {fingerprint(text)}", style="dim", highlight=False)


@handles_errors
def keys_show() -> None:
    """Print this node's public key (give it to partners for 'ews partners add')."""
    from ews.alerts.signing import fingerprint

    node = open_node()
    out.print(node.public_key, highlight=False)
    err.print(f"node {node.node_id}, fingerprint {fingerprint(node.public_key)}", highlight=False)


@handles_errors
def partners_add(
    name: Annotated[str, typer.Argument(help="Partner's node id (its EWS_NODE_ID).")],
    url: Annotated[str, typer.Argument(help="Partner's base URL, e.g. https://ews.example.org")],
    key: Annotated[str, typer.Argument(help="Partner's public key (ed25519:...).")],
    tlp_max: Annotated[
        str, typer.Option(help="Highest TLP the partner may receive.")
    ] = "AMBER+STRICT",
    store: StoreOpt = None,
) -> None:
    """Register a partner (or update its URL, key or ceiling)."""
    from ews.alerts.signing import fingerprint
    from ews.federation.partners import add_partner

    node = open_node(store)
    with node.store() as st:
        p = add_partner(
            st,
            name,
            url,
            key,
            tlp_max=tlp_max,
            self_id=node.node_id,
            production=node.config.production,
        )
    out.print(
        f"partner {p.name} at {p.url}, key {fingerprint(p.public_key)}, up to TLP:{p.tlp_max}",
        highlight=False,
    )


@handles_errors
def partners_list(store: StoreOpt = None) -> None:
    """List registered partners with their ceilings, agreements and delivery backlog."""
    from ews.alerts.signing import fingerprint
    from ews.federation.partners import list_partners
    from ews.federation.queries import pending_by_partner

    with open_node(store).store() as st:
        partners = list_partners(st)
        pending = pending_by_partner(st)
    table = Table(title=f"{len(partners)} partners")
    for col in ("name", "url", "key", "TLP max", "agreements", "pending"):
        table.add_column(col)
    for p in partners:
        table.add_row(
            p.name,
            p.url,
            fingerprint(p.public_key),
            p.tlp_max,
            ", ".join(f"{a.hs_prefix or '*'}≤{a.tlp_max}" for a in p.agreements) or "–",
            str(pending.get(p.name, 0)),
        )
    out.print(table)


@handles_errors
def partners_remove(name: str, store: StoreOpt = None) -> None:
    """Forget a partner (its agreements and pending deliveries too)."""
    from ews.federation.partners import remove_partner

    with open_node(store).store() as st:
        remove_partner(st, name)
    out.print(f"partner {name} removed")


@handles_errors
def partners_agree(
    name: str,
    hs: Annotated[str, typer.Option(help="HS code prefix covered ('' = all items).")] = "",
    tlp_max: Annotated[str, typer.Option(help="Highest TLP covered.")] = "AMBER",
    note: Annotated[str, typer.Option(help="Reference of the agreement.")] = "",
    store: StoreOpt = None,
) -> None:
    """Record an agreement: the partner receives AMBER alerts on these items unasked."""
    from ews.federation.partners import add_agreement

    with open_node(store).store() as st:
        a = add_agreement(st, name, hs_prefix=hs, tlp_max=tlp_max, note=note)
    out.print(f"{name} receives alerts on {a.hs_prefix or 'all items'} up to TLP:{a.tlp_max}")


@handles_errors
def node_serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8750,
    sync_interval: Annotated[
        float, typer.Option(help="Seconds between background push/pull rounds (0: none).")
    ] = 30.0,
    ssl_certfile: Annotated[Path | None, typer.Option(help="TLS certificate (PEM).")] = None,
    ssl_keyfile: Annotated[Path | None, typer.Option(help="TLS private key (PEM).")] = None,
    forwarded_allow_ips: Annotated[
        str | None,
        typer.Option(help="Proxies trusted for X-Forwarded-* (TLS terminated in front)."),
    ] = None,
    store: StoreOpt = None,
) -> None:
    """Serve this node's feed and inbox over HTTP(S) and sync with partners."""
    import uvicorn

    from ews.api.logs import log_config
    from ews.api.node import create_app

    node = open_node(store)
    node.key  # noqa: B018  # fail now, not at the first request, when the key is missing
    if (ssl_certfile is None) != (ssl_keyfile is None):
        raise EwsError("--ssl-certfile and --ssl-keyfile go together")
    app_ = create_app(node, sync_interval=sync_interval)
    scheme = "https" if ssl_certfile else "http"
    err.print(f"node {node.node_id} serving on {scheme}://{host}:{port}", highlight=False)
    uvicorn.run(
        app_,
        host=host,
        port=port,
        log_level="warning",
        ssl_certfile=str(ssl_certfile) if ssl_certfile else None,
        ssl_keyfile=str(ssl_keyfile) if ssl_keyfile else None,
        proxy_headers=forwarded_allow_ips is not None,
        forwarded_allow_ips=forwarded_allow_ips,
        log_config=log_config(),  # no token from a query string in the access log
    )


@handles_errors
def federation_sync(
    push: Annotated[bool, typer.Option(help="Deliver pending alerts.")] = True,
    pull: Annotated[bool, typer.Option(help="Read partners' feeds.")] = True,
    store: StoreOpt = None,
) -> None:
    """Push pending alerts to partners and pull theirs, once."""
    from ews.federation.exchange import sync_once

    report = sync_once(open_node(store), push=push, pull=pull)
    out.print(report.summary(), highlight=False)
    for problem in report.errors:
        err.print(problem, highlight=False)


@handles_errors
def federation_status(store: StoreOpt = None) -> None:
    """Deliveries by status and the last refusals."""
    from ews.federation.exchange import outbox_counts
    from ews.federation.queries import last_refusals

    with open_node(store).store() as st:
        counts = outbox_counts(st)
        refusals = last_refusals(st)
    out.print(f"outbox: {counts or 'empty'}", highlight=False)
    for r in refusals:
        out.print(
            f"{r.ts:%Y-%m-%d %H:%M:%S} refused {r.subject}: {r.reason} – {r.message}",
            highlight=False,
        )
