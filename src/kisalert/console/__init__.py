"""The browser console: static HTML, CSS and ES modules served by kisalert itself.

It talks only to the public API (spec/api.md), as any client would; `assets` loads
and versions its files, and `kisalert.http.console` serves them.
"""
