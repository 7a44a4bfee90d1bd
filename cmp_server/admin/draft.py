"""Console pages that edit a site's draft piece by piece: texts, look, purposes, trackers.

Each page turns its form into the whole configuration document and saves it through the one
door (`save_draft` -> services/sites.py save_draft): validated, audited, live settings apart.
"""

from flask import flash, redirect, render_template, request, url_for

from cmp_server.admin.access import (
    acting,
    can,
    requires,
    site_for,
    staff,
)
from cmp_server.admin.blueprint import bp
from cmp_server.admin.forms import (
    ActionForm,
    LookForm,
    apply_errors,
    category_form_class,
    lines,
    texts_form_class,
    tracker_form_class,
)
from cmp_server.admin.security import allow_frames_from_self
from cmp_server.extensions import db
from cmp_server.models import Site
from cmp_server.services import contrast, revisions, sites
from cmp_server.services.errors import NotFound, ServiceError
from cmp_server.services.texts import TEXT_KEYS, texts_for


def save_draft(site: Site, data: dict, what: str) -> None:
    """Write an edited configuration document as the draft (validated), audited."""
    try:
        sites.save_draft(site, data, acting(), can(staff(), "retention"), what)
    except ServiceError:
        db.session.rollback()
        raise
    db.session.commit()


def save_from_form(site: Site, data: dict, what: str, form, saved: str, next_url: str, fields=None):
    """Save the edited document as the draft and go on to `next_url`; when it is invalid, put
    its problems on the form and return None, so the view shows the form again."""
    try:
        save_draft(site, data, what)
    except ServiceError as exc:
        apply_errors(form, exc, fields)
        return None
    flash(saved, "success")
    return redirect(next_url)


def find_category(data: dict, key: str) -> dict:
    for category in data["categories"]:
        if category["key"] == key:
            return category
    raise NotFound(f"No purpose has the key {key!r}.", code="unknown_category")


@bp.route("/sites/<site_key>/texts", methods=["GET", "POST"])
@requires("edit_config")
def site_texts(site_key):
    site = site_for(site_key)
    language = request.args.get("lang") or site.default_language
    if language not in site.languages:
        raise NotFound(f"The site is not offered in {language!r}.", code="unknown_language")
    form = texts_form_class(language)()
    custom = site.texts.get(language, {})
    defaults = texts_for(language, None)
    if request.method == "GET":
        for key in TEXT_KEYS:
            form[key].data = custom.get(key, "")
    elif form.validate_on_submit():
        data = sites.export_site(site)
        data["texts"][language] = {k: form[k].data for k in TEXT_KEYS if form[k].data}
        saved = save_from_form(
            site,
            data,
            f"texts {language}",
            form,
            f"Texts ({language}) saved to the draft.",
            url_for("admin.site_texts", site_key=site.site_key, lang=language),
        )
        if saved:
            return saved
    return render_template(
        "admin/site_texts.html", site=site, form=form, language=language, defaults=defaults
    )


@bp.route("/sites/<site_key>/look", methods=["GET", "POST"])
@requires("edit_config")
def site_look(site_key):
    site = site_for(site_key)
    form = LookForm()
    colors = {**revisions.DEFAULT_LOOK["colors"], **(site.look.get("colors") or {})}
    if request.method == "GET":
        form.position.data = site.look.get("position", "bottom")
        for key in contrast.COLOR_KEYS:
            form[key].data = colors[key]
    if request.method == "POST":
        colors = {k: (form[k].data or "").strip() for k in contrast.COLOR_KEYS}
    if form.validate_on_submit():
        problems = contrast.problems_by_field(colors)
        for name, messages in problems.items():
            form[name].errors = [*form[name].errors, *messages]
        if problems:
            form.form_errors.append("Some colours are too hard to read: see the checks below.")
        else:
            data = sites.export_site(site)
            data["look"] = {"position": form.position.data, "colors": colors}
            saved = save_from_form(
                site,
                data,
                "look",
                form,
                "Look saved to the draft.",
                url_for("admin.site_look", site_key=site.site_key),
                {"look": "background"},
            )
            if saved:
                return saved
    allow_frames_from_self()  # the sample frames the preview page
    return render_template(
        "admin/site_look.html",
        site=site,
        form=form,
        colors=colors,
        checks=contrast.check_colors(colors),
    )


def _category_data(form, languages: list[str], trackers: list) -> dict:
    labels = {}
    for lang in languages:
        title = (form[f"title_{lang}"].data or "").strip()
        if title:
            labels[lang] = {"title": title, "description": form[f"description_{lang}"].data or ""}
    return {
        "key": form.key.data.strip(),
        "required": form.required.data,
        "honor_gpc": form.honor_gpc.data,
        "consent_mode": list(form.consent_mode.data or []),
        "labels": labels,
        "trackers": trackers,
    }


@bp.route("/sites/<site_key>/categories/new", methods=["GET", "POST"], defaults={"key": None})
@bp.route("/sites/<site_key>/categories/<key>", methods=["GET", "POST"])
@requires("edit_config")
def category_edit(site_key, key):
    site = site_for(site_key)
    data = sites.export_site(site)
    category = find_category(data, key) if key else None
    form = category_form_class(site.languages)()
    if request.method == "GET":
        if category:
            form.key.data = category["key"]
            form.required.data = category["required"]
            form.honor_gpc.data = category["honor_gpc"]
            form.consent_mode.data = category["consent_mode"]
            for lang in site.languages:
                label = category["labels"].get(lang, {})
                form[f"title_{lang}"].data = label.get("title", "")
                form[f"description_{lang}"].data = label.get("description", "")
        else:
            form.honor_gpc.data = True
    elif form.validate_on_submit():
        new = _category_data(form, site.languages, category["trackers"] if category else [])
        if category:
            data["categories"][data["categories"].index(category)] = new
        else:
            data["categories"].append(new)
        saved = save_from_form(
            site,
            data,
            f"purpose {new['key']}",
            form,
            f"Purpose “{new['key']}” saved to the draft.",
            url_for("admin.site_overview", site_key=site.site_key),
            {"categories": "key"},
        )
        if saved:
            return saved
    return render_template(
        "admin/category.html",
        site=site,
        form=form,
        category=category,
        action_form=ActionForm(),
    )


@bp.post("/sites/<site_key>/categories/<key>/delete")
@requires("edit_config")
def category_delete(site_key, key):
    def remove(data):
        data["categories"].remove(find_category(data, key))
        return f"purpose {key} deleted", f"Purpose “{key}” removed from the draft."

    return _remove_from_draft(site_for(site_key), remove)


def _remove_from_draft(site, remove):
    """A delete button's POST: `remove(data)` takes the item out of the site's document and
    returns the draft's summary and the flash message; then back to the overview."""
    if ActionForm().validate_on_submit():
        data = sites.export_site(site)
        summary, message = remove(data)
        save_draft(site, data, summary)
        flash(message, "success")
    return redirect(url_for("admin.site_overview", site_key=site.site_key))


def _tracker_texts(form, field: str, languages: list[str], before: dict) -> dict:
    """A tracker text per language from the form; texts in languages the site no longer
    offers (not on the form) are kept."""
    texts = {lang: text for lang, text in before.items() if lang not in languages}
    for lang in languages:
        text = (form[f"{field}_{lang}"].data or "").strip()
        if text:
            texts[lang] = text
    return texts


def _tracker_data(form, languages: list[str], before: dict | None) -> dict:
    return {
        "name": form.name.data.strip(),
        "provider": form.provider.data.strip(),
        "kind": form.kind.data,
        "purpose": _tracker_texts(form, "purpose", languages, (before or {}).get("purpose", {})),
        "duration": _tracker_texts(form, "duration", languages, (before or {}).get("duration", {})),
        "cookies": lines(form.cookies.data),
        "domains": lines(form.domains.data),
        "privacy_policy_url": (form.privacy_policy_url.data or "").strip() or None,
    }


@bp.route(
    "/sites/<site_key>/categories/<key>/trackers/new",
    methods=["GET", "POST"],
    defaults={"index": None},
)
@bp.route("/sites/<site_key>/categories/<key>/trackers/<int:index>", methods=["GET", "POST"])
@requires("edit_config")
def tracker_edit(site_key, key, index):
    site = site_for(site_key)
    data = sites.export_site(site)
    category = find_category(data, key)
    if index is not None and not 0 <= index < len(category["trackers"]):
        raise NotFound("No such tracker.", code="unknown_tracker")
    tracker = category["trackers"][index] if index is not None else None
    form = tracker_form_class(site.languages)()
    if request.method == "GET" and tracker:
        for name in ("name", "provider", "kind"):
            form[name].data = tracker[name]
        for lang in site.languages:
            form[f"purpose_{lang}"].data = tracker["purpose"].get(lang, "")
            form[f"duration_{lang}"].data = tracker["duration"].get(lang, "")
        form.cookies.data = "\n".join(tracker["cookies"])
        form.domains.data = "\n".join(tracker["domains"])
        form.privacy_policy_url.data = tracker["privacy_policy_url"] or ""
    elif form.validate_on_submit():
        new = _tracker_data(form, site.languages, tracker)
        if tracker is not None:
            category["trackers"][index] = new
        else:
            category["trackers"].append(new)
        saved = save_from_form(
            site,
            data,
            f"tracker {new['name']} in {key}",
            form,
            f"Tracker “{new['name']}” saved to the draft.",
            url_for("admin.site_overview", site_key=site.site_key),
            {"categories": "name"},
        )
        if saved:
            return saved
    return render_template(
        "admin/tracker.html",
        site=site,
        form=form,
        category=category,
        tracker=tracker,
        index=index,
        action_form=ActionForm(),
    )


@bp.post("/sites/<site_key>/categories/<key>/trackers/<int:index>/delete")
@requires("edit_config")
def tracker_delete(site_key, key, index):
    def remove(data):
        trackers = find_category(data, key)["trackers"]
        if not 0 <= index < len(trackers):
            raise NotFound("No such tracker.", code="unknown_tracker")
        name = trackers.pop(index)["name"]
        return f"tracker {name} deleted from {key}", f"Tracker “{name}” removed from the draft."

    return _remove_from_draft(site_for(site_key), remove)
