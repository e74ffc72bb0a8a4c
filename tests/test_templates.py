"""Template hygiene: Django's {# #} comments are one line only; a multi-line one is printed on
the page as text (it was, on the generation form)."""

from pathlib import Path

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def test_no_template_has_a_multi_line_short_comment():
    offenders = [
        f"{path.relative_to(TEMPLATES)}:{number}"
        for path in TEMPLATES.rglob("*.html")
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if line.count("{#") > line.count("#}")
    ]
    assert offenders == [], "use {% comment %} for comments over several lines"
