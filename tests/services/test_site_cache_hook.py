"""A committed change to a site reaches this app's cache at once, whoever made it: the
session hook in services/lookup.py forgets every site whose rows a transaction wrote, so no
caller (console, API, CLI) has to remember to. The cache lifetime here is an hour: without
the hook every assertion below would see the old state."""

import pytest

from cmp_server import create_app
from cmp_server.extensions import db
from cmp_server.models import Category
from cmp_server.services import lookup, publishing, sites
from cmp_server.services.audit import CLI_ACTOR


@pytest.fixture
def app_config():
    return {"ACCORD_SITE_CACHE_SECONDS": 3600}


def test_a_committed_draft_edit_is_seen_at_once_and_not_before(app, make_site):
    site = make_site()
    assert lookup.site_state(site.site_key).origins == ("https://shop.example",)
    document = {**sites.export_site(site), "origins": ["https://new.example"]}
    sites.save_draft(site, document, CLI_ACTOR, True, "test")
    assert lookup.site_state(site.site_key).origins == ("https://shop.example",)  # not yet
    db.session.commit()
    assert lookup.site_state(site.site_key).origins == ("https://new.example",)


def test_a_publish_is_served_at_once(app, make_site):
    site = make_site()
    assert lookup.site_state(site.site_key).published == 1
    category = site.categories[1]
    category.labels = {**category.labels, "en": {"title": "Stats", "description": "Counts."}}
    publishing.publish(site, None, CLI_ACTOR)
    db.session.commit()
    assert lookup.site_state(site.site_key).published == 2


def test_a_change_to_a_purpose_alone_forgets_its_site(app, make_site):
    site = make_site()
    lookup.site_state(site.site_key)
    category = db.session.scalar(db.select(Category).where(Category.site_id == site.id))
    db.session.expunge(site)  # only the category row is written
    category.honor_gpc = not category.honor_gpc
    db.session.commit()
    assert site.site_key not in app.extensions[lookup.EXTENSION].sites


def test_a_rolled_back_change_forgets_nothing(app, make_site):
    site = make_site()
    state = lookup.site_state(site.site_key)
    site.origins = ["https://never.example"]
    db.session.flush()
    db.session.rollback()
    assert lookup.CHANGED_KEYS not in db.session.info
    assert lookup.site_state(site.site_key) is state


def test_two_apps_in_one_process_keep_their_own_caches(app, make_site, tmp_path):
    site = make_site()
    lookup.site_state(site.site_key)
    other = create_app(
        {
            "SECRET_KEY": "another-secret-key-0123",
            "ACCORD_INSTANCE_PATH": str(tmp_path / "other"),
            "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        }
    )
    assert site.site_key in app.extensions[lookup.EXTENSION].sites
    assert other.extensions[lookup.EXTENSION].sites == {}
