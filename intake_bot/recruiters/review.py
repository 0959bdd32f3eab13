"""The recruiters' browser view: Datasette on the register, with the shipped metadata.

``intake_bot/recruiters/datasette_metadata.json`` gives the tables human titles, column descriptions,
facets and canned queries; :mod:`intake_bot.recruiters.review_plugin` links each submission to its
files and notices. Datasette is an optional extra (``pip install 'intake-bot[review]'``).
It opens the register read-only, so the service keeps writing while recruiters read.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import os
import socket
from pathlib import Path
from typing import Any

from intake_bot.config import Config
from intake_bot.recruiters.errors import RecruiterError, require
from intake_bot.register import Register

METADATA = Path(__file__).with_name("datasette_metadata.json")
#: The metadata file's name for the register's database, replaced by the real one.
TEMPLATE_DATABASE = "register"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8001


def database_name(config: Config) -> str:
    """The register's name in Datasette's URLs: its file name without ``.db``."""
    return config.register_path.stem


def build_metadata(config: Config) -> dict[str, Any]:
    """The shipped metadata, for this configuration's register and documents folder."""
    metadata = json.loads(METADATA.read_text(encoding="utf-8"))
    name = database_name(config)
    metadata["databases"] = {name: metadata["databases"].pop(TEMPLATE_DATABASE)}
    metadata["plugins"] = {"intake-bot": {"database": name,
                                          "documents": str(config.documents_path)}}
    return metadata


def canned_queries(config: Config) -> dict[str, dict[str, str]]:
    """The canned queries by name (``title``, ``description``, ``sql``)."""
    return build_metadata(config)["databases"][database_name(config)]["queries"]


def create_datasette(config: Config) -> Any:
    """A Datasette instance on the register, with the metadata and the plugin loaded."""
    require("datasette", "review", "intake-bot review")
    from datasette.app import Datasette
    from datasette.plugins import pm

    from intake_bot.recruiters import review_plugin

    if pm.get_plugin(review_plugin.NAME) is None:
        pm.register(review_plugin, name=review_plugin.NAME)
    # Opening the register creates or migrates it, so every table the metadata names exists.
    Register(config.register_path).close()
    return Datasette([str(config.register_path)], metadata=build_metadata(config))


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


def serve(datasette: Any, listening: socket.socket) -> None:
    """Serve the browser view (see :func:`create_datasette`) on ``listening`` until interrupted."""
    import uvicorn  # Datasette's own server, installed with it

    asyncio.run(datasette.invoke_startup())
    server = uvicorn.Server(uvicorn.Config(datasette.app(), log_level="warning", lifespan="on"))
    server.run(sockets=[listening])
