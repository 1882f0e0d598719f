"""The operator web UI: server-rendered pages under /ui, served by the hub itself.

Layout, for whoever adds a page:

- `pages/<area>.py` holds one `router` (an `APIRouter` without prefix; paths start with
  the area, e.g. `/contacts`) and registers its nav entry with `nav.register`. Every module
  in `pages/` is found and mounted under `/ui` by `ui.install_ui`; nothing else to edit.
- `templates/<area>/*.html` extend `base.html` and use the form kit in `kit.html`.
- `auth.py` gives the signed-in person as a dependency (`SignedIn`, `SignedInAccount`,
  `SignedInAdmin`) and checks the CSRF token of every unsafe request under /ui.
- `templating.py` renders pages (`render`) and redirects after a form (`see_other`, with
  flash messages).
"""
