"""``cordon desk``: the desktop client for liaison officers (PySide6 + qasync).

Modules, one responsibility each: ``app`` (entry point), ``session`` (settings
to bridge), ``settings``, ``credentials``, ``bridge`` (the only one talking to
the hub, through :mod:`client.sdk`), ``cache`` (SQLite), ``verify`` (offline
signature checks), ``rows`` and ``fields`` (plain data; the schema adapter),
``models`` (Qt models), ``figures`` and ``export`` (pure), and the widgets:
``window``, ``compose``, ``detail``, ``dashboard``, ``status``, ``setup``;
``i18n`` installs translations.
"""
