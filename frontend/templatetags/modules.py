"""``{% module_script "frontend/js/unit.js" %}``: a page's module script, preceded by a
``modulepreload`` link for every module it imports, directly or not.

Without them the browser finds a page's modules one import level at a time (unit.js, then
api.js and dom.js, then what those import), a round trip per level before the first data
request; with them it asks for all of them at once. The links name the URLs the browser will
resolve the imports to: relative to the entry's own URL, which in production is the hashed
name of the manifest storage while the imports inside the scripts keep the plain names.
"""

import posixpath
import re
from functools import lru_cache
from urllib.parse import urljoin

from django import template
from django.conf import settings
from django.contrib.staticfiles import finders
from django.templatetags.static import static
from django.utils.html import format_html, format_html_join

register = template.Library()

# Static imports and re-exports of a relative module: `import … from "./x.js"`,
# `export … from "../x.js"`, `import "./x.js"`. The pages' scripts import nothing else.
RELATIVE_IMPORT = re.compile(r"""\b(?:from|import)\s*["'](\.{1,2}/[^"']+\.js)["']""")


def _imports_of(path: str) -> list[str]:
    """Static paths (as under STATIC_URL) of the modules ``path`` imports."""
    found = finders.find(path)
    if found is None:
        return []
    with open(found, encoding="utf-8") as source:
        text = source.read()
    folder = posixpath.dirname(path)
    return [
        posixpath.normpath(posixpath.join(folder, name)) for name in RELATIVE_IMPORT.findall(text)
    ]


def _dependencies(entry: str) -> list[str]:
    """Every module ``entry`` imports, directly or not, in the order first reached."""
    seen, order, pending = {entry}, [], [entry]
    while pending:
        for path in _imports_of(pending.pop(0)):
            if path not in seen:
                seen.add(path)
                order.append(path)
                pending.append(path)
    return order


_cached_dependencies = lru_cache(maxsize=None)(_dependencies)


@register.simple_tag
def module_script(entry: str):
    """The preload links of ``entry``'s imports and the module script itself."""
    # While developing, scripts change under a running server: read them on every page.
    dependencies = _dependencies(entry) if settings.DEBUG else _cached_dependencies(entry)
    entry_url = static(entry)
    entry_folder = posixpath.dirname(entry)
    links = format_html_join(
        "",
        '<link rel="modulepreload" href="{}">',
        ((urljoin(entry_url, posixpath.relpath(path, entry_folder)),) for path in dependencies),
    )
    return format_html('{}<script type="module" src="{}"></script>', links, entry_url)
