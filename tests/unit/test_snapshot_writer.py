"""The offline snapshot's writer (scripts/local/snapshot.py) on a small built dashboard: the
script and style inlined, the answers embedded so that nothing in them can end their element,
and a build it cannot inline refused with the reason; the keys of its POSTs and paths are the
ones web/src/api.js makes (run in Node). The browser opens a real one in
tests/browser/test_snapshot.py."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest

from scripts.deploy.catalog import REPO_ROOT
from scripts.local.snapshot import (
    DATA_ELEMENT,
    REQUESTS,
    Answer,
    Get,
    Post,
    SnapshotError,
    analysis_body,
    breakdown_body,
    follow_ups,
    path_part,
    read_build,
    render,
)

SCRIPT = 'const end = "</script>"; document.title = end;'
STYLE = "body { color: red; }"
TAKEN = datetime(2026, 12, 3, 14, 5, tzinfo=UTC)


class Elements(HTMLParser):
    """Each element's tag, attributes and text, as a browser's parser splits the page."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str | None], str]] = []
        self.open = False  # whether text now belongs to the last element found

    def handle_starttag(self, tag, attrs) -> None:
        self.found.append((tag, dict(attrs), ""))
        self.open = True

    def handle_endtag(self, tag) -> None:
        self.open = False

    def handle_data(self, data) -> None:
        if self.open:
            tag, attrs, text = self.found[-1]
            self.found[-1] = (tag, attrs, text + data)


def parsed(page: str) -> list[tuple[str, dict[str, str | None], str]]:
    parser = Elements()
    parser.feed(page)
    return parser.found


def built(tmp_path: Path, manifest: dict) -> Path:
    (tmp_path / ".vite").mkdir()
    (tmp_path / ".vite" / "manifest.json").write_text(json.dumps(manifest))
    (tmp_path / "index-abc.js").write_text(SCRIPT)
    (tmp_path / "index-def.css").write_text(STYLE)
    return tmp_path


ENTRY = {"file": "index-abc.js", "isEntry": True, "css": ["index-def.css"]}


def test_the_page_inlines_the_build_and_embeds_every_answer_intact(tmp_path) -> None:
    build = read_build(built(tmp_path, {"index.html": ENTRY}))
    answers = {
        "/kpi/revenue?grain=week": Answer(200, {"note": "</script><!-- & ü"}),
        "/ml/latest": Answer(404, {"error": {"message": "no champion yet", "field": "model"}}),
    }
    elements = parsed(render(build, answers, TAKEN))
    scripts = [(attrs, text) for tag, attrs, text in elements if tag == "script"]
    assert len(scripts) == 2, "the data and the module, no third element split off"
    data_attrs, data = scripts[0]
    assert data_attrs == {"type": "application/json", "id": DATA_ELEMENT}
    assert json.loads(data) == {
        "taken": "2026-12-03T14:05:00+00:00",
        "answers": {url: {"status": a.status, "body": a.body} for url, a in answers.items()},
    }
    module_attrs, code = scripts[1]
    assert module_attrs == {"type": "module"} and "src" not in module_attrs
    assert code == SCRIPT.replace("</script>", "<\\/script>")
    assert [text for tag, _, text in elements if tag == "style"] == [STYLE]
    assert not any("href" in attrs and "/app/" in attrs["href"] for _, attrs, _ in elements)


@pytest.mark.parametrize(
    "manifest",
    [
        {"index.html": {**ENTRY, "imports": ["_vendor.js"]}},
        {"index.html": {**ENTRY, "dynamicImports": ["src/lazy.js"]}},
        {"index.html": ENTRY, "other.html": {**ENTRY, "file": "other.js"}},
    ],
)
def test_a_build_of_several_chunks_is_refused(tmp_path, manifest) -> None:
    with pytest.raises(SnapshotError, match="several chunks"):
        read_build(built(tmp_path, manifest))


def test_an_unbuilt_dashboard_is_refused_naming_the_fix(tmp_path) -> None:
    with pytest.raises(SnapshotError, match=r"not built .* run ./dev"):
        read_build(tmp_path)


def test_a_script_with_a_comment_opener_is_refused(tmp_path) -> None:
    (built(tmp_path, {"index.html": ENTRY}) / "index-abc.js").write_text("a <!-- b")
    with pytest.raises(SnapshotError, match="<!--"):
        render(read_build(tmp_path), {}, TAKEN)


def test_request_urls_are_written_as_the_pages_url_search_params_writes_them() -> None:
    # new URLSearchParams({grain: "week", start: "a b&c"}).toString() in a browser
    assert Get("/kpi/revenue", (("grain", "week"), ("start", "a b&c"))).url == (
        "/kpi/revenue?grain=week&start=a+b%26c"
    )
    assert Get("/kpi/funnel").url == "/kpi/funnel"
    assert len({get.url for get in REQUESTS}) == len(REQUESTS), "no request twice"


# api.js imported in Node (its module top reads the page for an embedded snapshot: none here).
PAGE_KEYS = """
globalThis.document = { getElementById: () => null };
const { snapshotPostKey } = await import("./src/api.js");
const { posts, parts } = JSON.parse(process.argv[1]);
console.log(JSON.stringify({
  posts: posts.map(([path, body]) => snapshotPostKey(path, body)),
  parts: parts.map(encodeURIComponent),
}));
"""


def page_keys(posts: list[Post], parts: list[str]) -> dict:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed (./dev needs it to build the dashboard)")
    argument = json.dumps({"posts": [[p.path, p.body] for p in posts], "parts": parts})
    done = subprocess.run(
        [node, "--input-type=module", "-e", PAGE_KEYS, argument],
        cwd=REPO_ROOT / "web",
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return json.loads(done.stdout)


def test_post_keys_and_path_parts_are_the_ones_the_page_makes() -> None:
    posts = [
        Post("/ab/analyze", analysis_body("checkout_one_click")),
        Post("/ab/breakdown", breakdown_body("Größe & <Preis>")),
        Post("/ml/predict", {"rows": [{"b": None, "a": 3, "c": ["x", True]}]}),
    ]
    parts = ["checkout_one_click", "a b/c?d#e&f", "it's (ü)!*~"]
    shown = page_keys(posts, parts)
    assert shown["posts"] == [p.key for p in posts]
    assert shown["parts"] == [path_part(p) for p in parts]
    # And written out once, so a change of both sides alike is seen too.
    assert posts[0].key == (
        'POST /ab/analyze {"experiment_id":"checkout_one_click","locale":"en-US",'
        '"options":{"bayesian":{"model":"gaussian"},"scale":"relative","sequential":false}}'
    )


EXPERIMENTS = {
    "experiments": [
        {"experiment_id": "one click", "status": "finished"},
        {"experiment_id": "banner", "status": "running"},
        {"experiment_id": "free shipping", "status": "planned"},  # its page shows no analysis
    ]
}
SHAP = {"importances": [{"feature": "sessions_30d"}, {"feature": "country"}]}


def test_each_listed_experiment_and_the_default_dependence_feature_are_followed() -> None:
    answers = {"/ab/experiments": Answer(200, EXPERIMENTS), "/ml/shap": Answer(200, SHAP)}
    keys = [request.key for request in follow_ups(answers)]
    assert keys == [
        "/ab/experiments/one%20click",
        "/ab/experiments/one%20click/timeline?scale=relative",
        Post("/ab/analyze", analysis_body("one click", "en-US")).key,
        Post("/ab/analyze", analysis_body("one click", "de-DE")).key,
        Post("/ab/breakdown", breakdown_body("one click")).key,
        "/ab/experiments/banner",
        "/ab/experiments/banner/timeline?scale=relative",
        Post("/ab/analyze", analysis_body("banner", "en-US")).key,
        Post("/ab/analyze", analysis_body("banner", "de-DE")).key,
        Post("/ab/breakdown", breakdown_body("banner")).key,
        "/ab/experiments/free%20shipping",
        "/ml/shap/dependence/sessions_30d",
    ]
    assert {"/ml/curves", "/kpi"} <= {get.key for get in REQUESTS}


def test_error_answers_lead_to_nothing_more() -> None:
    missing = Answer(404, {"error": {"message": "no champion yet", "field": "model"}})
    answers = {"/ab/experiments": Answer(200, {"experiments": []}), "/ml/shap": missing}
    assert follow_ups(answers) == ()


def test_post_answers_are_embedded_under_their_key(tmp_path) -> None:
    post = Post("/ab/analyze", analysis_body("banner"))
    answers = {post.key: Answer(200, {"decision": {"verdict": "SHIP"}})}
    elements = parsed(render(read_build(built(tmp_path, {"index.html": ENTRY})), answers, TAKEN))
    data = next(text for tag, attrs, text in elements if attrs.get("id") == DATA_ELEMENT)
    assert json.loads(data)["answers"] == {
        post.key: {"status": 200, "body": answers[post.key].body}
    }
