# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""What an analytics server does, without a web framework: flows, statuses, throttling.

The server role stores ciphertext, hashes visitor ids, throttles and manages operators. It
never decrypts an event payload or a user secret. Every flow here is synchronous and takes its
collaborators (the Store, a clock, id factories) as parameters; it takes typed inputs (the
parsed body, the ``user`` cookie, whether consent was given) and returns typed results that
tell the HTTP layer what to answer and which cookies to set (`FlowResult`). The HTTP layer
keeps to routing, cookies and status codes:

- `ServerConfig`, `Cookie`: the instance-wide settings (server secret, retention, base URL,
  cookie context) and the cookies flows ask for.
- `Route`, `status_for`, `error_body`: the routes and the one mapping of errors to status
  codes and Offen's error body.
- `ThrottleStep` / `AsyncThrottleStep` (built on `make_throttle`): the throttle step to
  call before each flow, with `ROUTE_THROTTLES` saying what each route is limited by and
  `throttle_identity` reading it from a request.
- The visitor side: `VisitorFlows` (public key, exchange, events, purge) with the request
  and result models of ``/api/exchange``, ``/api/events`` and ``/api/purge``.
- The operator side: `Operators` (setup, login, accounts, sharing, credentials) with its
  request and result models, `TokenSigner`, the mailers and `normalize_email`.
"""

from offen_core.server._config import MIN_SECRET_BYTES, Cookie, ServerConfig, load_server_secret
from offen_core.server._email import email_lookup, normalize_email
from offen_core.server._status import (
    MAX_BODY_BYTES,
    ErrorBody,
    FlowResult,
    Route,
    body_too_large,
    error_body,
    status_for,
)
from offen_core.server.mail import (
    MailDeliveryError,
    Mailer,
    MailMessage,
    OutboxMailer,
    SmtpMailer,
)
from offen_core.server.operator_models import (
    AccountView,
    CreateAccountResult,
    LoginAccount,
    LoginResult,
    NoContentResult,
    RecoveryKeyResult,
    RotationResult,
    ShareResult,
)
from offen_core.server.operators import Operators, OperatorSession
from offen_core.server.throttling import (
    ROUTE_THROTTLES,
    SERVER_POLICIES,
    AsyncThrottleStep,
    Identity,
    RouteThrottle,
    ThrottleStep,
    make_async_throttle,
    make_throttle,
    throttle_identity,
    throttle_key,
)
from offen_core.server.tokens import TokenSigner
from offen_core.server.visitor_models import (
    AccountPublicKeyResult,
    EventsResult,
    ExchangeRequest,
    ExchangeResult,
    PostEventRequest,
    PostEventResult,
    PurgeResult,
    format_time,
    parse_json_body,
)
from offen_core.server.visitors import (
    MAX_EVENTS_LIMIT,
    USER_COOKIE,
    VisitorFlows,
    consent_given,
)

__all__ = [
    "MAX_BODY_BYTES",
    "MAX_EVENTS_LIMIT",
    "MIN_SECRET_BYTES",
    "ROUTE_THROTTLES",
    "SERVER_POLICIES",
    "USER_COOKIE",
    "AccountPublicKeyResult",
    "AccountView",
    "AsyncThrottleStep",
    "Cookie",
    "CreateAccountResult",
    "ErrorBody",
    "EventsResult",
    "ExchangeRequest",
    "ExchangeResult",
    "FlowResult",
    "Identity",
    "LoginAccount",
    "LoginResult",
    "MailDeliveryError",
    "MailMessage",
    "Mailer",
    "NoContentResult",
    "OperatorSession",
    "Operators",
    "OutboxMailer",
    "PostEventRequest",
    "PostEventResult",
    "PurgeResult",
    "RecoveryKeyResult",
    "RotationResult",
    "Route",
    "RouteThrottle",
    "ServerConfig",
    "ShareResult",
    "SmtpMailer",
    "ThrottleStep",
    "TokenSigner",
    "VisitorFlows",
    "body_too_large",
    "consent_given",
    "email_lookup",
    "error_body",
    "format_time",
    "load_server_secret",
    "make_async_throttle",
    "make_throttle",
    "normalize_email",
    "parse_json_body",
    "status_for",
    "throttle_identity",
    "throttle_key",
]
