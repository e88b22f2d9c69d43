"""gpw on the web: the JSON API under ``/api/v1`` and the dashboard's pages.

    from workflow import Workflow
    from workflow.web import create_app

    app = create_app(Workflow.open("sqlite:///gpw.db"))   # any ASGI server; or gpw serve

A host mounts it under its own path: ``host_app.mount("/gpw", app)``.
"""

from __future__ import annotations

from workflow.web.app import create_app

__all__ = ["create_app"]
