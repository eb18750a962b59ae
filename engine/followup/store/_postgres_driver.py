"""psycopg at the edge of the PostgreSQL store: imported when first needed, a URL shown
without its password, and the driver's errors turned into messages a person can act on."""

from __future__ import annotations

import re
from typing import Any

from followup.errors import InputError, StoreError


def _driver() -> Any:
    try:
        import psycopg
    except ImportError as exc:
        raise StoreError(
            "a postgresql:// store needs psycopg 3: pip install 'followup-engine[postgresql]'"
        ) from exc
    return psycopg


def describe(url: str) -> str:
    """Where a connection string points, for messages: never its password."""
    try:
        from psycopg.conninfo import conninfo_to_dict

        parts = conninfo_to_dict(url)
    except Exception:  # not parseable: the driver will say why when connecting
        return "the PostgreSQL database in the store URL"
    host = str(parts.get("host") or "localhost")
    port = str(parts.get("port") or "5432")
    return f"postgresql://{parts.get('user', '') and str(parts['user']) + '@'}{host}:{port}/" \
           f"{parts.get('dbname') or ''}"


def check_url(url: str) -> None:
    """Refuse a URL the driver cannot read, with ``InputError``, without its password:
    the driver's own message quotes the part it could not read, which may be it."""
    _driver()
    from psycopg.conninfo import conninfo_to_dict

    try:
        conninfo_to_dict(url)
    except Exception as exc:
        reason = re.sub(r'"[^"]*"', '"..."', _first_line(exc))
        head, _, rest = url.partition("://")
        userinfo = rest.rpartition("@")[0]
        for secret in (userinfo, userinfo.partition(":")[2]):
            if secret:
                reason = reason.replace(secret, "...")
        raise InputError(
            f"the PostgreSQL store URL cannot be read ({reason}): write {head}://USER:"
            "PASSWORD@HOST:PORT/DATABASE, with any %, @, /, : or space in the user or "
            "password percent-encoded (%25, %40, %2F, %3A, %20)") from None


def _history_clash(exc: Any) -> InputError:
    # The server names the row: "Key (application_id, seq)=(a1, 0) already exists."
    found = re.search(r"=\((.*), (\d+)\) already exists", exc.diag.message_detail or "")
    which = (f"history entry {found[2]} of application {found[1]!r}" if found
             else "a history entry of this change")
    return InputError(f"{which} already exists: history only grows; number new entries "
                      "from the length of the loaded history")


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
