# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""What the FastAPI and the Flask example share and is not specific to an HTTP framework.

- `Settings`: configuration from ``OFFEN_CORE_*`` environment variables;
- `response_headers`: the security headers of every answer;
- `Pages`: the static pages and the browser files;
- `Service`, `Incoming`, `Outgoing`: the flows of `offen_core.server` and the one request
  pipeline (authenticate, throttle, run the flow, map errors);
- `configure_logging`, `access_line`: an access log without client addresses;
- `ExpiryThread`: hourly expiry in the background.
"""

from examples.common.accesslog import access_line, configure_logging, log_access
from examples.common.expiry import ExpiryThread
from examples.common.headers import PageKind, page_kind, response_headers
from examples.common.pages import Page, Pages
from examples.common.service import AUTH_ROUTES, Incoming, Outgoing, Service
from examples.common.settings import PREFIX, VARIABLES, Settings

__all__ = [
    "AUTH_ROUTES",
    "PREFIX",
    "VARIABLES",
    "ExpiryThread",
    "Incoming",
    "Outgoing",
    "Page",
    "PageKind",
    "Pages",
    "Service",
    "Settings",
    "access_line",
    "configure_logging",
    "log_access",
    "page_kind",
    "response_headers",
]
