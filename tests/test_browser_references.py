"""In a real browser: upload images to the asset library (file picker and drag and drop, with
per-file progress), then make a first-frame image-to-video from one of them; the simulated
gateway must have fetched that image through its expiring link."""

import base64

import pytest

from projects.models import Asset, GenerationTask, Membership
from tests import media_files as mf
from tests.browser import chromium_page, requires_chromium, worker_thread
from tests.factories import MembershipFactory, ProjectFactory, TeamFactory, UserFactory

pytestmark = [pytest.mark.browser, requires_chromium, pytest.mark.django_db(transaction=True)]

DROP = """([files]) => {
  const data = new DataTransfer();
  for (const [name, type, b64] of files) {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    data.items.add(new File([bytes], name, { type }));
  }
  const zone = document.getElementById("dropzone");
  zone.dispatchEvent(new DragEvent("dragover", { dataTransfer: data, bubbles: true }));
  zone.dispatchEvent(new DragEvent("drop", { dataTransfer: data, bubbles: true }));
}"""


def test_upload_an_image_and_generate_from_it_as_first_frame(live_server, sim, settings, tmp_path):
    settings.SITE_URL = live_server.url  # local signed links must reach the gateway
    team = TeamFactory(name="Studio")
    user = UserFactory(username="mia", password="pass-word-123")
    MembershipFactory(team=team, user=user, role=Membership.Role.MEMBER)
    project = ProjectFactory(team=team, name="Launch film", slug="launch-film")
    boat = mf.image(tmp_path, "boat.png", width=960, height=540)
    extra = mf.image(tmp_path, "sky.jpg", width=800, height=800, fmt="JPEG")
    broken = tmp_path / "notes.png"
    broken.write_bytes(b"just some text, not an image")

    with worker_thread(), chromium_page() as page:
        page.goto(f"{live_server.url}/login/")
        page.fill("#id_username", "mia")
        page.fill("#id_password", "pass-word-123")
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server.url}/")
        page.goto(f"{live_server.url}/p/{project.pk}/")
        page.click("#assets-link")
        page.wait_for_selector("h1:has-text('Assets')")

        page.set_input_files("#id_files", str(boat))
        page.wait_for_selector("#uploads li.ok")
        assert page.locator("#uploads li.ok progress").get_attribute("value") == "100"
        page.wait_for_selector("#asset-grid .tile.asset[data-kind=image]")

        page.evaluate(
            DROP,
            [
                [
                    ["sky.jpg", "image/jpeg", base64.b64encode(extra.read_bytes()).decode()],
                    ["notes.png", "image/png", base64.b64encode(broken.read_bytes()).decode()],
                ]
            ],
        )
        page.wait_for_function("document.querySelectorAll('#uploads li.ok').length === 2")
        page.wait_for_selector("#uploads li.error")
        error = page.locator("#uploads li.error .status").inner_text()
        assert error.startswith("“notes.png” is a text file; we accept images")
        assert page.locator("#asset-grid .tile.asset").count() == 2

        # No ORM inside this block: Playwright's greenlet would get its own connection.
        asset_id = page.get_attribute("#asset-grid .tile.asset:has-text('boat.png')", "data-asset")
        assert "960×540" in page.inner_text(f"#asset-grid .tile.asset[data-asset='{asset_id}']")
        page.click(f"#asset-grid .tile.asset[data-asset='{asset_id}']")
        page.wait_for_selector("img#preview")
        page.click("text=Use in a new generation")
        page.wait_for_selector("#references")
        assert page.is_checked(f"input[name=first_frame][value='{asset_id}']")
        page.fill("#id_prompt", "The paper boat from the photo drifts down the rainy street")
        page.select_option("#id_duration", "5")
        page.click("button:has-text('Generate')")
        page.wait_for_selector("text=Generation submitted.")
        page.wait_for_selector("video#player", timeout=60_000)
        assert page.locator("#references li[data-role=first_frame]").count() == 1

    asset = Asset.objects.get(pk=asset_id)
    assert (asset.name, asset.width, asset.height) == ("boat.png", 960, 540)
    task = GenerationTask.objects.get()
    assert task.status == "succeeded", task.error_message
    assert list(task.references.values_list("role", "asset_id")) == [("first_frame", asset.pk)]
    [fetch] = sim.engine.media_fetches
    assert fetch["url"].startswith(f"{live_server.url}/media/s/")
    assert fetch["status"] == 200 and fetch["size"] == asset.size_bytes
    [create] = [r for r in sim.engine.requests if r["op"] == "create"]
    assert create["body"]["content"] == [
        {"type": "image_url", "image_url": {"url": fetch["url"]}, "role": "first_frame"}
    ]
