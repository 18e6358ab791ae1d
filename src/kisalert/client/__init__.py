"""A command-line client for any server that speaks Kismet's alert API (kisalert or
Kismet itself): `kisalert tail`, `raise`, `define` and `alerts`.

It uses only the public API, over the standard library's HTTP client and the
`websockets` package the server already depends on.
"""
