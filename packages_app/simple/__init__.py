"""The simple repository API (PEP 503 / 691), its time-travel prefixes and the files it links to.

A request goes ``urls`` -> ``views`` (resolve, negotiate, key) -> ``builders`` (models to a
PEP 691 dict) -> ``renderers`` (HTML or JSON bytes), served as a stored page by
``packages_app.pages.serve``. ``timetravel`` is the time filter of ``/snapshot/`` and
``/cooldown/``; ``downloads`` serves ``/packages/``.
"""
