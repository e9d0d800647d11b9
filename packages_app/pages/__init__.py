"""Stored pages: built once per serial, kept in ``store``, answered over HTTP by ``serve``.

Every read that can be built once and served many times (simple pages, legacy JSON
pages, the metadata API's project resource) goes ``serve.serve_page(key, build)``,
which gets the page from ``store.get_or_build`` and answers with ETag/304, gzip, the
page's named ``CachePolicy`` and, for PyPI's pages, the serial header.
"""
