"""OpenRosa endpoints for ODK Collect (protocol.md 1).

``protocol``: the blueprint and the glue every response shares (headers, errors, ETags);
``forms``: form list, form and media downloads, manifests, entity-list integrity;
``submission``: the submission endpoint. Handlers parse the request, call services (server/xforms,
server/sync) and answer; they build no queries themselves.
"""

from server.api.openrosa import forms, submission  # noqa: F401  (registers the routes)
from server.api.openrosa.protocol import openrosa

__all__ = ["openrosa"]
