"""The pages in a real browser (Debian's headless Chromium): charts drawn with every
reading, search through the form, and nothing shown without the credentials."""

from __future__ import annotations

import time
from typing import Any

from selenium.webdriver.common.action_chains import ActionChains

from tests.support import chromium
from tests.web.conftest import CREDENTIALS, FIGURE, PLANTED_WORD, REPORTS, TOPIC, Site


def wait_for(driver: Any, script: str, deadline: float = 60.0) -> Any:
    """The script's value once it is truthy (the page's scripts run after load)."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        value = driver.execute_script(script)
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"never true in the page: {script}")


# How many pixels of a chart's canvas hold a colour: the confirmed line and points are
# #1f5fa8, the unconfirmed points' rings #c0392b.
PAINTED = """
const [selector, r, g, b] = arguments;
const canvas = document.querySelector(selector + ' canvas');
const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
let n = 0;
for (let i = 0; i < data.length; i += 4)
  if (Math.abs(data[i] - r) < 8 && Math.abs(data[i + 1] - g) < 8 && Math.abs(data[i + 2] - b) < 8) n++;
return n;
"""


def test_a_figure_chart_renders_every_reading(web_view: Site) -> None:
    points = web_view.get(f"/api/topics/{TOPIC}/figures/{FIGURE}").json()["points"]
    with chromium(CREDENTIALS) as browser:
        browser.get(f"{web_view.base}/topics/{TOPIC}")
        drawn = wait_for(
            browser, f"return document.querySelector('#chart-{FIGURE}').dataset.points"
        )
        assert int(drawn) == len(points) == len(REPORTS) + 1  # the seed's reading too
        xs, confirmed, unconfirmed, top, bottom = browser.execute_script(
            f"return window.newswatchCharts['{FIGURE}'].data;"
        )
        # After the readings, one more x where only the band goes on to the chart's edge.
        assert xs[:-1] == [p["time"] for p in points] and xs[-1] > xs[-2]
        assert confirmed[-6:] == [11000, 12000, 14000, 14500, None, None]
        assert unconfirmed[-3:] == [None, 60000, None]  # held: a point off the line
        assert (bottom[-3], top[-3]) == (14500, 15000)  # the range's band
        assert (bottom[-1], top[-1]) == (14500, 15000)  # held until the next change
        assert browser.execute_script(PAINTED, f"#chart-{FIGURE}", 31, 95, 168) > 100
        assert browser.execute_script(PAINTED, f"#chart-{FIGURE}", 192, 57, 43) > 10

        # A click on the last point opens the reading: its quote, document and sources.
        left, top, width, height = browser.execute_script(
            f"const c = window.newswatchCharts['{FIGURE}'];"
            "const i = c.data[0].length - 2;"  # the last reading (the held one)
            "return [c.valToPos(c.data[0][i], 'x'), c.valToPos(c.data[2][i] ?? c.data[1][i], 'y'),"
            " c.over.clientWidth, c.over.clientHeight];"
        )
        over = browser.find_element("css selector", f"#chart-{FIGURE} .u-over")
        # Aim a pixel inside the plot, should the point sit on its edge.
        x, y = min(left, width - 2) - width / 2, min(max(top, 2), height - 2) - height / 2
        ActionChains(browser).move_to_element_with_offset(over, int(x), int(y)).click().perform()
        wait_for(browser, f"return location.pathname.endsWith('/figures/{FIGURE}')")
        assert browser.execute_script("return location.hash") == f"#p{len(points) - 1}"
        row = browser.execute_script(
            f"return document.getElementById('p{len(points) - 1}').innerText"
        )
        assert "A blogger claims 60,000" in row and "unconfirmed" in row and "blog.example" in row


def test_search_finds_a_planted_document(web_view: Site) -> None:
    with chromium(CREDENTIALS) as browser:
        browser.get(f"{web_view.base}/topics/{TOPIC}")
        wait_for(browser, "return document.readyState === 'complete'")
        browser.execute_script(
            "const box = document.querySelector('form.search input[name=q]');"
            f"box.value = '{PLANTED_WORD.lower()}'; box.form.submit();"
        )
        wait_for(
            browser,
            "return location.pathname.endsWith('/documents') && document.readyState === 'complete'",
        )
        hits = browser.execute_script(
            "return [...document.querySelectorAll('ol.documents li')].map(li => li.innerText)"
        )
        assert len(hits) == 1 and REPORTS[1][2] in hits[0]
        marked = browser.execute_script(
            "return [...document.querySelectorAll('ol.documents mark')].map(m => m.innerText)"
        )
        assert marked == [PLANTED_WORD]
        browser.find_element("css selector", "ol.documents li a").click()
        wait_for(browser, "return document.querySelector('dl.manifest') !== null")
        assert REPORTS[1][1] in browser.execute_script("return document.body.innerText")


def test_without_credentials_the_browser_gets_401_and_no_data(web_view: Site) -> None:
    with chromium(None) as browser:
        browser.get(f"{web_view.base}/topics/{TOPIC}")
        # Chromium puts up no login prompt when headless: the page stays empty.
        assert "North Korean" not in browser.execute_script("return document.body.innerText")
        # From the one open page, the browser's own requests for the others get 401.
        browser.get(f"{web_view.base}/healthz")
        assert '"status":"ok"' in browser.execute_script("return document.body.innerText")
        for path in (f"/topics/{TOPIC}", "/api/topics", "/metrics"):
            answer = browser.execute_script(
                "return fetch(arguments[0], {credentials: 'omit'})"
                ".then(async r => [r.status, await r.text()])",
                path,
            )
            assert answer[0] == 401 and "North Korean" not in answer[1], path
