"""Console pages for sites and their draft: settings, texts, look, categories, trackers."""

import json

from flask import flash, redirect, render_template, request, url_for

from cmp_server.admin.access import (
    acting,
    can,
    record,
    requires,
    site_for,
    staff,
    visible_sites,
)
from cmp_server.admin.blueprint import bp
from cmp_server.admin.forms import (
    COLOR_KEYS,
    ActionForm,
    JsonConfigForm,
    LookForm,
    RetentionForm,
    SiteCreateForm,
    SiteSettingsForm,
    TrackerForm,
    apply_errors,
    category_form_class,
    lines,
    texts_form_class,
)
from cmp_server.extensions import db
from cmp_server.models import Site
from cmp_server.services import lookup, publishing, retention, sites
from cmp_server.services.errors import InvalidInput, NotFound, ServiceError
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


@bp.get("/")
@requires("view_sites")
def home():
    return redirect(url_for("admin.site_list"))


@bp.get("/sites")
@requires("view_sites")
def site_list():
    rows = [(site, sites.published_revision(site)) for site in visible_sites()]
    return render_template("admin/sites.html", rows=rows, form=SiteCreateForm())


@bp.post("/sites")
@requires("create_site")
def site_create():
    form = SiteCreateForm()
    if form.validate_on_submit():
        try:
            site = sites.create_site(form.name.data, lines(form.origins.data))
        except ServiceError as exc:
            db.session.rollback()
            apply_errors(form, exc)
        else:
            record("site.create", site_key=site.site_key, target=site.name)
            db.session.commit()
            flash(f"Site “{site.name}” created. Add its purposes, then publish.", "success")
            return redirect(url_for("admin.site_overview", site_key=site.site_key))
    rows = [(site, sites.published_revision(site)) for site in visible_sites()]
    return render_template("admin/sites.html", rows=rows, form=form), 400


@bp.get("/sites/<site_key>")
@requires("view_sites")
def site_overview(site_key):
    site = site_for(site_key)
    return render_template(
        "admin/site.html",
        site=site,
        published=sites.published_revision(site),
        check=publishing.preview(site),
        can_edit=can(staff(), "edit_config"),
        action_form=ActionForm(),
    )


@bp.route("/sites/<site_key>/settings", methods=["GET", "POST"])
@requires("edit_config")
def site_settings(site_key):
    site = site_for(site_key)
    form = SiteSettingsForm()
    if request.method == "GET":
        form.name.data = site.name
        form.origins.data = "\n".join(site.origins)
        form.languages.data = ", ".join(site.languages)
        form.default_language.data = site.default_language
        form.privacy_policy_url.data = site.privacy_policy_url or ""
        form.consent_lifetime_days.data = site.consent_lifetime_days
        form.regimes.data = "\n".join(f"{k}={v}" for k, v in site.regimes.items())
    elif form.validate_on_submit():
        data = sites.export_site(site)
        regimes = {}
        for line in lines(form.regimes.data):
            region, _, regime = line.partition("=")
            regimes[region.strip()] = regime.strip()
        languages = lines(form.languages.data)
        data.update(
            name=form.name.data,
            origins=lines(form.origins.data),
            languages=languages,
            default_language=form.default_language.data.strip(),
            privacy_policy_url=form.privacy_policy_url.data.strip() or None,
            consent_lifetime_days=form.consent_lifetime_days.data,
            regimes=regimes,
        )
        # Texts of a language no longer offered would make the document invalid: drop them.
        data["texts"] = {k: v for k, v in data["texts"].items() if k in languages}
        saved = save_from_form(
            site,
            data,
            "settings",
            form,
            "Settings saved to the draft.",
            url_for("admin.site_overview", site_key=site.site_key),
        )
        if saved:
            return saved
    return render_template("admin/site_settings.html", site=site, form=form)


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
    colors = {**sites.DEFAULT_LOOK["colors"], **(site.look.get("colors") or {})}
    if request.method == "GET":
        form.position.data = site.look.get("position", "bottom")
        for key in COLOR_KEYS:
            form[key].data = colors[key]
    elif form.validate_on_submit():
        data = sites.export_site(site)
        data["look"] = {
            "position": form.position.data,
            "colors": {k: form[k].data.strip() for k in COLOR_KEYS},
        }
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
    return render_template("admin/site_look.html", site=site, form=form, colors=colors)


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
    site = site_for(site_key)
    if ActionForm().validate_on_submit():
        data = sites.export_site(site)
        data["categories"].remove(find_category(data, key))
        save_draft(site, data, f"purpose {key} deleted")
        flash(f"Purpose “{key}” removed from the draft.", "success")
    return redirect(url_for("admin.site_overview", site_key=site.site_key))


def _tracker_data(form) -> dict:
    return {
        "name": form.name.data.strip(),
        "provider": form.provider.data.strip(),
        "kind": form.kind.data,
        "purpose": form.purpose.data or "",
        "duration": form.duration.data or "",
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
    form = TrackerForm()
    if request.method == "GET" and tracker:
        for name in ("name", "provider", "kind", "purpose", "duration"):
            form[name].data = tracker[name]
        form.cookies.data = "\n".join(tracker["cookies"])
        form.domains.data = "\n".join(tracker["domains"])
        form.privacy_policy_url.data = tracker["privacy_policy_url"] or ""
    elif form.validate_on_submit():
        new = _tracker_data(form)
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
    site = site_for(site_key)
    if ActionForm().validate_on_submit():
        data = sites.export_site(site)
        trackers = find_category(data, key)["trackers"]
        if not 0 <= index < len(trackers):
            raise NotFound("No such tracker.", code="unknown_tracker")
        removed = trackers.pop(index)
        save_draft(site, data, f"tracker {removed['name']} deleted from {key}")
        flash(f"Tracker “{removed['name']}” removed from the draft.", "success")
    return redirect(url_for("admin.site_overview", site_key=site.site_key))


@bp.route("/sites/<site_key>/json", methods=["GET", "POST"])
@requires("edit_config")
def site_json(site_key):
    """The whole draft as the import/export JSON document, for bulk edits."""
    site = site_for(site_key)
    form = JsonConfigForm()
    status = 200
    if request.method == "GET":
        form.document.data = json.dumps(sites.export_site(site), indent=2, ensure_ascii=False)
    elif form.validate_on_submit():
        try:
            data = json.loads(form.document.data)
            if not isinstance(data, dict):
                raise InvalidInput("The document must be one JSON object.")
            save_draft(site, data, "json")
        except json.JSONDecodeError as exc:
            form.document.errors = [f"Not valid JSON: {exc}"]
        except ServiceError as exc:
            apply_errors(form, exc)
            status = exc.status  # 403: retention is not the editor's to change
        else:
            flash("Configuration saved to the draft.", "success")
            return redirect(url_for("admin.site_overview", site_key=site.site_key))
    return render_template("admin/site_json.html", site=site, form=form), status


@bp.route("/sites/<site_key>/retention", methods=["GET", "POST"])
@requires("retention")
def site_retention(site_key):
    site = site_for(site_key)
    form = RetentionForm()
    if request.method == "GET":
        form.retention_days.data = site.retention_days
        form.legal_hold.data = site.legal_hold
    elif form.validate_on_submit():
        sites.set_retention(site, form.retention_days.data, form.legal_hold.data, acting())
        db.session.commit()
        flash("Retention saved.", "success")
        return redirect(url_for("admin.site_retention", site_key=site.site_key))
    due = retention.purge_site(site, dry_run=True)
    db.session.rollback()
    return render_template(
        "admin/site_retention.html", site=site, form=form, due=due, action_form=ActionForm()
    )


@bp.post("/sites/<site_key>/purge")
@requires("retention")
def site_purge(site_key):
    """Run the retention purge for this site now (the same as `accord purge --site`)."""
    site = site_for(site_key)
    if ActionForm().validate_on_submit():
        outcome = retention.purge_site(site)
        record(
            "proofs.purge",
            site_key=site.site_key,
            details={
                "deleted": outcome.deleted,
                "through": outcome.through_position,
                "held": outcome.held,
            },
        )
        db.session.commit()
        lookup.forget_site(site.site_key)
        flash(f"Purge done: {outcome.deleted} expired records removed.", "success")
    return redirect(url_for("admin.site_retention", site_key=site.site_key))
