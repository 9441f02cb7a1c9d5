# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""The example servers' settings, read from ``OFFEN_CORE_*`` environment variables.

Every variable can also be given as ``<NAME>_FILE``, the path of a file holding the value (for
secrets kept by a container runtime); giving both is an error. `VARIABLES` lists every name
with its default and meaning; docs/guides/examples.md prints the same table.
"""

from __future__ import annotations

import base64
import logging
import math
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, Literal

import offen_core
from offen_core.errors import InvalidInputError
from offen_core.server import ServerConfig, load_server_secret
from offen_core.storage import DEFAULT_DATABASE_URL, parse_retention

__all__ = ["PREFIX", "VARIABLES", "Settings"]

_log = logging.getLogger(__name__)

PREFIX: Final = "OFFEN_CORE_"

VARIABLES: Final[Mapping[str, tuple[str, str]]] = {
    "DATABASE_URL": (
        DEFAULT_DATABASE_URL,
        "SQLAlchemy URL of the database (SQLite, PostgreSQL, MySQL)",
    ),
    "SECRET": ("(required)", "server secret, standard base64 of at least 16 bytes"),
    "DEVELOPMENT": ("false", "allow a missing secret (a random one per process) for local tries"),
    "RETENTION": (
        "6months",
        "how long events are kept: 6months, 12weeks, 6weeks, 30days, 7days or days",
    ),
    "BASE_URL": ("(none)", "public URL of the server; mail links are built from it"),
    "SECURE_CONTEXT": ("true if BASE_URL is https", "Secure and SameSite=None cookies, HSTS"),
    "RECOVERY_KEYS": (
        "false",
        "recovery-key mode: POST /api/recover instead of forgot/reset, no email-wrapped KEKs",
    ),
    "MIGRATE": ("true", "bring the database schema up to date at start"),
    "EXPIRY_INTERVAL": ("3600", "seconds between expiry runs in the background; 0 turns it off"),
    "RATELIMIT_STORAGE": ("memory://", "throttle storage: memory:// or redis://host:6379/0"),
    "RATELIMIT_PREFIX": ("offen", "prefix of the throttle's keys in a shared storage"),
    "TRUSTED_PROXIES": ("(none)", "comma list of proxy addresses or networks to trust"),
    "FORWARDED_HEADER": (
        "x-forwarded-for",
        "header the trusted proxies write: x-forwarded-for or forwarded",
    ),
    "THROTTLE_WAIT_CAP": ("5", "ASGI only: longest throttle delay waited out, in seconds"),
    "ARGON2_THREADS": ("4", "thread count for Offen's deprecated algo-2 hashes"),
    "MAIL_OUTBOX": ("offen-outbox", "folder the default mailer writes .eml files to"),
    "MAIL_CONSOLE": ("false", "development switch: also print mails (they carry one-time keys)"),
    "MAIL_SENDER": ("no-reply@offen.dev", "From address of invitations and reset mails"),
    "SMTP_HOST": ("(none)", "send mail through this SMTP server instead of the outbox"),
    "SMTP_PORT": ("587", "SMTP port"),
    "SMTP_USER": ("(none)", "SMTP login; none sends without authentication"),
    "SMTP_PASSWORD": ("(none)", "SMTP password"),
    "SMTP_SECURITY": ("starttls", "starttls, tls (implicit) or none"),
    "DEMO_ACCOUNT_ID": ("(oldest account)", "account the /demo/ page counts for"),
    "REVISION": (offen_core.__version__, "what GET /versionz reports"),
    "LOG_LEVEL": ("info", "level of the application's log"),
    "ACCESS_LOG": ("true", "write an access log (never with client addresses)"),
}
"""Every variable without its prefix: ``(default, meaning)``."""

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off", ""})


def _read(environ: Mapping[str, str], name: str) -> str | None:
    """The value of ``OFFEN_CORE_<name>`` or the content of the file ``OFFEN_CORE_<name>_FILE``."""
    key = PREFIX + name
    value = environ.get(key)
    path = environ.get(key + "_FILE")
    if value is not None and path is not None:
        raise InvalidInputError(key, f"give either {key} or {key}_FILE, not both")
    if path is not None:
        try:
            return Path(path).read_text(encoding="utf-8").strip()
        except OSError:
            raise InvalidInputError(key + "_FILE", "names a file that cannot be read") from None
    return value


def _flag(environ: Mapping[str, str], name: str, default: bool) -> bool:
    value = _read(environ, name)
    if value is None:
        return default
    text = value.strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise InvalidInputError(PREFIX + name, "must be true or false")


def _number(environ: Mapping[str, str], name: str, default: float, *, minimum: float) -> float:
    value = _read(environ, name)
    if value is None or not value.strip():
        return default
    try:
        number = float(value)
    except ValueError:
        raise InvalidInputError(PREFIX + name, "must be a number") from None
    if not math.isfinite(number) or number < minimum:
        raise InvalidInputError(PREFIX + name, f"must be a number of at least {minimum:g}")
    return number


def _text(environ: Mapping[str, str], name: str, default: str | None = None) -> str | None:
    value = _read(environ, name)
    if value is None or not value.strip():
        return default
    return value.strip()


@dataclass(frozen=True, slots=True)
class Settings:
    """What an example server is configured with; see `VARIABLES` for each meaning.

    Build it with `from_env`; tests build it directly.
    """

    secret: bytes = field(repr=False)
    database_url: str = DEFAULT_DATABASE_URL
    retention: str = "6months"
    base_url: str | None = None
    secure_context: bool = False
    recovery_keys: bool = False
    migrate: bool = True
    expiry_interval: float = 3600.0
    ratelimit_storage: str = "memory://"
    ratelimit_prefix: str = "offen"
    trusted_proxies: tuple[str, ...] = ()
    forwarded_header: Literal["x-forwarded-for", "forwarded"] = "x-forwarded-for"
    throttle_wait_cap: float = 5.0
    argon2_threads: int = 4
    mail_outbox: str = "offen-outbox"
    mail_console: bool = False
    mail_sender: str = "no-reply@offen.dev"
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_user: str | None = None
    smtp_password: str | None = field(default=None, repr=False)
    smtp_security: str = "starttls"
    demo_account_id: str | None = None
    revision: str = offen_core.__version__
    log_level: str = "INFO"
    access_log: bool = True

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        """Read the settings from environment variables.

        Args:
            environ: The environment, usually `os.environ`.

        Returns:
            The settings.

        Raises:
            InvalidInputError: A variable is missing or invalid; the error names it.
        """
        development = _flag(environ, "DEVELOPMENT", False)
        secret_text = _text(environ, "SECRET")
        if secret_text is None:
            if not development:
                raise InvalidInputError(
                    PREFIX + "SECRET",
                    "is required; make one with `offen-core secret` and keep it "
                    "(set OFFEN_CORE_DEVELOPMENT=1 to try the server without one)",
                )
            _log.warning("no OFFEN_CORE_SECRET: tokens and cookies die with this process")
            secret_text = base64.b64encode(secrets.token_bytes(32)).decode("ascii")
        try:
            secret = load_server_secret(secret_text)
        except InvalidInputError as error:
            raise InvalidInputError(PREFIX + "SECRET", error.rule) from None

        retention = _text(environ, "RETENTION", "6months") or "6months"
        try:
            parse_retention(retention)
        except InvalidInputError as error:
            raise InvalidInputError(PREFIX + "RETENTION", error.rule) from None
        base_url = _text(environ, "BASE_URL")
        secure = _flag(
            environ, "SECURE_CONTEXT", base_url is not None and base_url.startswith("https://")
        )
        header = (_text(environ, "FORWARDED_HEADER", "x-forwarded-for") or "").lower()
        if header not in ("x-forwarded-for", "forwarded"):
            raise InvalidInputError(PREFIX + "FORWARDED_HEADER", "use x-forwarded-for or forwarded")
        proxies = tuple(
            part.strip()
            for part in (_text(environ, "TRUSTED_PROXIES", "") or "").split(",")
            if part.strip()
        )
        settings = cls(
            secret=secret,
            database_url=_text(environ, "DATABASE_URL", DEFAULT_DATABASE_URL)
            or DEFAULT_DATABASE_URL,
            retention=retention,
            base_url=base_url,
            secure_context=secure,
            recovery_keys=_flag(environ, "RECOVERY_KEYS", False),
            migrate=_flag(environ, "MIGRATE", True),
            expiry_interval=_number(environ, "EXPIRY_INTERVAL", 3600.0, minimum=0),
            ratelimit_storage=_text(environ, "RATELIMIT_STORAGE", "memory://") or "memory://",
            ratelimit_prefix=_text(environ, "RATELIMIT_PREFIX", "offen") or "offen",
            trusted_proxies=proxies,
            forwarded_header="forwarded" if header == "forwarded" else "x-forwarded-for",
            throttle_wait_cap=_number(environ, "THROTTLE_WAIT_CAP", 5.0, minimum=0),
            argon2_threads=int(_number(environ, "ARGON2_THREADS", 4, minimum=1)),
            mail_outbox=_text(environ, "MAIL_OUTBOX", "offen-outbox") or "offen-outbox",
            mail_console=_flag(environ, "MAIL_CONSOLE", False),
            mail_sender=_text(environ, "MAIL_SENDER", "no-reply@offen.dev") or "no-reply@offen.dev",
            smtp_host=_text(environ, "SMTP_HOST"),
            smtp_port=int(_number(environ, "SMTP_PORT", 587, minimum=1)),
            smtp_user=_text(environ, "SMTP_USER"),
            smtp_password=_read(environ, "SMTP_PASSWORD"),
            smtp_security=(_text(environ, "SMTP_SECURITY", "starttls") or "starttls").lower(),
            demo_account_id=_text(environ, "DEMO_ACCOUNT_ID"),
            revision=_text(environ, "REVISION", offen_core.__version__) or offen_core.__version__,
            log_level=(_text(environ, "LOG_LEVEL", "info") or "info").upper(),
            access_log=_flag(environ, "ACCESS_LOG", True),
        )
        settings.server_config()
        return settings

    def server_config(self) -> ServerConfig:
        """Build the `ServerConfig` the flows share.

        Returns:
            The configuration.

        Raises:
            InvalidInputError: The secret, retention or base URL is invalid.
        """
        try:
            return ServerConfig(
                self.secret,
                retention=parse_retention(self.retention),
                base_url=self.base_url,
                recovery_mode=self.recovery_keys,
                secure_context=self.secure_context,
            )
        except InvalidInputError as error:
            raise InvalidInputError(PREFIX + (error.field or "").upper(), error.rule) from None

    @property
    def public_tls(self) -> bool:
        """Whether the public URL is https (then every answer carries HSTS)."""
        return self.base_url is not None and self.base_url.startswith("https://")
