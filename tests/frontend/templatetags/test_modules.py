import re
from pathlib import Path

from django.template import Context, Template

from frontend.templatetags import modules

SCRIPTS = Path(__file__).resolve().parents[3] / "frontend" / "static" / "frontend" / "js"


def render(entry):
    return Template("{% load modules %}{% module_script entry %}").render(Context({"entry": entry}))


def preloads(html):
    return re.findall(r'<link rel="modulepreload" href="([^"]+)">', html)


def imported_names(path):
    return set(re.findall(r'from "\./([a-z_]+\.js)"', path.read_text()))


def test_every_module_the_unit_page_imports_is_preloaded_before_its_script():
    html = render("frontend/js/unit.js")
    closure, pending = set(), ["unit.js"]
    while pending:
        for name in imported_names(SCRIPTS / pending.pop()) - closure:
            closure.add(name)
            pending.append(name)
    assert sorted(preloads(html)) == sorted(f"/static/frontend/js/{name}" for name in closure)
    assert html.endswith('<script type="module" src="/static/frontend/js/unit.js"></script>')


def test_a_module_is_preloaded_once_even_when_several_modules_import_it():
    links = preloads(render("frontend/js/grid.js"))
    assert links.count("/static/frontend/js/api.js") == 1
    assert len(links) == len(set(links))


def test_the_entry_itself_is_not_preloaded():
    assert "/static/frontend/js/unit.js" not in preloads(render("frontend/js/unit.js"))


def test_preloads_resolve_against_the_entrys_url_as_the_browser_resolves_its_imports(
    monkeypatch,
):
    # In production the manifest storage gives the entry a hashed name; the imports inside it
    # keep the plain names and resolve from the entry's folder.
    monkeypatch.setattr(modules, "static", lambda path: f"/assets/{path[:-3]}.0123abcd.js")
    html = render("frontend/js/unit.js")
    assert "/assets/frontend/js/api.js" in preloads(html)
    assert '<script type="module" src="/assets/frontend/js/unit.0123abcd.js">' in html


def test_a_script_that_imports_nothing_gets_only_its_script_tag():
    assert render("frontend/js/npy.js") == (
        '<script type="module" src="/static/frontend/js/npy.js"></script>'
    )


def test_a_missing_entry_still_gets_its_script_tag_and_no_preloads():
    assert render("frontend/js/missing.js") == (
        '<script type="module" src="/static/frontend/js/missing.js"></script>'
    )
