"""Read a console form the way a browser submits it: what a test then changes and posts."""

from html.parser import HTMLParser


class _FormReader(HTMLParser):
    """The fields of the page's first <form method="post"> other than the top bar's sign-out
    (or of the one whose action ends with `action`): text and hidden inputs, checked boxes,
    selected options, textareas."""

    def __init__(self, action: str | None):
        super().__init__(convert_charrefs=True)
        self.action = action
        self.fields: list[tuple[str, str]] = []
        self.inside = False
        self.done = False
        self.textarea: str | None = None
        self.select: str | None = None
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and not self.done and (a.get("method") or "").lower() == "post":
            target = a.get("action") or ""
            if self.action is None:  # the page's own form, not the top bar's sign-out
                self.inside = not target.endswith("/logout")
            else:
                self.inside = target.endswith(self.action)
            return
        if not self.inside:
            return
        if tag == "option" and self.select and "selected" in a:
            self.fields.append((self.select, a.get("value") or ""))
        if "name" not in a:
            return
        if tag == "input":
            kind = (a.get("type") or "text").lower()
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self.fields.append((a["name"], a.get("value") or "y"))
            elif kind not in ("submit", "button", "color"):
                self.fields.append((a["name"], a.get("value") or ""))
        elif tag == "textarea":
            self.textarea, self.text = a["name"], []
        elif tag == "select":
            self.select = a["name"]

    def handle_data(self, data):
        if self.textarea:
            self.text.append(data)

    def handle_endtag(self, tag):
        if tag == "textarea" and self.textarea:
            value = "".join(self.text)
            # A browser drops the newline that starts a textarea's content.
            for newline in ("\r\n", "\n"):
                if value.startswith(newline):
                    value = value[len(newline) :]
                    break
            self.fields.append((self.textarea, value))
            self.textarea = None
        elif tag == "select":
            self.select = None
        elif tag == "form" and self.inside:
            self.inside, self.done = False, True


def read_form(html: str, action: str | None = None) -> list[tuple[str, str]]:
    """The (name, value) pairs a browser would post from the page's form."""
    reader = _FormReader(action)
    reader.feed(html)
    return reader.fields


def with_values(fields: list[tuple[str, str]], **values: str) -> list[tuple[str, str]]:
    """The fields with some single values replaced (or added)."""
    kept = [(k, v) for k, v in fields if k not in values]
    return kept + list(values.items())
