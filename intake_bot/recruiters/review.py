"""The recruiters' browser view: Datasette on the register, with the shipped metadata.

``intake_bot/recruiters/datasette_metadata.json`` gives the tables human titles, column descriptions,
facets and canned queries; :mod:`intake_bot.recruiters.review_plugin` draws each submission's
candidate card (``templates/``), words codes and local times, and serves a submission's files.
Datasette is an optional extra (``pip install 'intake-bot[review]'``). It opens the register
read-only, so the service keeps writing while recruiters read.

Safe by default: only the canned queries run (arbitrary SQL only with ``allow_sql``), no
page shows the server's paths, and :func:`check_listening` refuses an address beyond the
loopback unless the operator says an authenticating proxy stands in front.
"""

from __future__ import annotations

import ipaddress
import json
import os
import socket
from pathlib import Path
from typing import Any

from intake_bot.config import Config
from intake_bot.recruiters.errors import RecruiterError, RequestError, require
from intake_bot.register import Register

METADATA = Path(__file__).with_name("datasette_metadata.json")
TEMPLATES = Path(__file__).with_name("templates")
#: The register's name in the browser view's URLs (``/register/applications``), whatever
#: its file is called: the candidate card's template is named after it.
DATABASE = "register"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8001
#: Datasette settings: no facet suggestions (a dozen queries over every row per page), and
#: time for the shipped facets on a big register.
SETTINGS = {"suggest_facets": False, "facet_time_limit_ms": 1000}


class UnsafeListening(RequestError):
    """``review`` asked to listen beyond the loopback with no authentication in front."""


def build_metadata(config: Config, allow_sql: bool = False) -> dict[str, Any]:
    """The shipped metadata, for this configuration; arbitrary SQL only with ``allow_sql``."""
    metadata = json.loads(METADATA.read_text(encoding="utf-8"))
    metadata["allow_sql"] = allow_sql
    metadata["plugins"] = {"intake-bot": {"database": DATABASE, "config": str(config.path),
                                          "documents": str(config.documents_path)}}
    return metadata


def canned_queries(config: Config) -> dict[str, dict[str, str]]:
    """The canned queries by name (``title``, ``description``, ``sql``)."""
    return build_metadata(config)["databases"][DATABASE]["queries"]


def create_datasette(config: Config, allow_sql: bool = False) -> Any:
    """A Datasette instance on the register, with the metadata, templates and plugin loaded."""
    require("datasette", "review", "intake-bot review")
    from datasette.app import Datasette
    from datasette.database import Database
    from datasette.plugins import pm

    from intake_bot.recruiters import review_plugin

    if pm.get_plugin(review_plugin.NAME) is None:
        pm.register(review_plugin, name=review_plugin.NAME)
    # Opening the register creates or migrates it, so every table the metadata names exists.
    Register(config.register_path).close()
    datasette = Datasette(metadata=build_metadata(config, allow_sql), template_dir=str(TEMPLATES),
                          settings=SETTINGS)
    datasette.add_database(Database(datasette, path=str(config.register_path), is_mutable=True),
                           name=DATABASE)
    return datasette


def is_loopback(host: str) -> bool:
    """Whether only this machine can reach ``host`` (``127.0.0.1``, ``::1``, ``localhost``)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def listen(host: str, port: int) -> socket.socket:
    """The browser view's listening socket, bound before its address is announced.

    Raises :class:`RecruiterError` in one line when the port is taken or the host unknown,
    so that no URL is printed for a server that never starts.
    """
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        return socket.create_server((host, port), family=family)
    except OSError as error:
        # create_server adds the address to strerror; the line names it already.
        number = error.errno or 0  # negative for an unknown host (getaddrinfo's own codes)
        reason = os.strerror(number) if number > 0 else error.strerror or str(error)
        raise RecruiterError(f"cannot listen on {host}:{port}: {reason}") from None


def check_listening(host: str, behind_proxy: bool) -> None:
    """Refuse an address beyond the loopback unless an authenticating proxy is in front.

    Whoever reaches the port reads every application: the view has no login of its own.
    """
    if not is_loopback(host) and not behind_proxy:
        raise UnsafeListening(
            f"review --host {host}: refusing to listen beyond this machine without sign-in: "
            "keep 127.0.0.1 behind the organisation's sign-on proxy, or say that one stands "
            "in front of this address with --behind-proxy")


def serve(datasette: Any, listening: socket.socket) -> None:
    """Serve the browser view (see :func:`create_datasette`) on ``listening`` until interrupted."""
    import asyncio

    import uvicorn  # Datasette's own server, installed with it

    asyncio.run(datasette.invoke_startup())
    server = uvicorn.Server(uvicorn.Config(datasette.app(), log_level="warning", lifespan="on"))
    server.run(sockets=[listening])
