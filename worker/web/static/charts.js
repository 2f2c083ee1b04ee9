// Each .chart element holds its points as JSON; draw them with uPlot (served from /static).
// Confirmed readings are a line with filled points, unconfirmed ones hollow red points
// off the line, and a range (11,000 to 12,000) a band from its lower to its upper end.
"use strict";
(function () {
  const charts = (window.newswatchCharts = {});
  const number = new Intl.NumberFormat("en");

  function draw(element) {
    const data = JSON.parse(element.querySelector(".chart-data").textContent);
    const points = data.points;
    if (!points.length) {
      element.dataset.points = "0";
      return;
    }
    const xs = points.map((p) => p.t);
    const confirmed = points.map((p) => (p.c ? p.v : null));
    const unconfirmed = points.map((p) => (p.c ? null : p.v));
    // The band follows the confirmed value only: a held reading is a point apart.
    const top = points.map((p) => (p.c ? (p.u == null ? p.v : p.u) : null));
    const bottom = points.map((p) => (p.c ? p.v : null));
    const hasRange = points.some((p) => p.c && p.u != null);
    // One step past the last reading, where only the band goes on: the current value
    // (and its range) holds until the next change.
    const last = xs[xs.length - 1];
    const lastConfirmed = points.filter((p) => p.c).pop();
    xs.push(last + Math.max((last - xs[0]) * 0.04, 3600));
    confirmed.push(null);
    unconfirmed.push(null);
    top.push(lastConfirmed ? (lastConfirmed.u == null ? lastConfirmed.v : lastConfirmed.u) : null);
    bottom.push(lastConfirmed ? lastConfirmed.v : null);
    const value = (u, v) => (v == null ? "—" : number.format(v));
    const readout = document.createElement("div");
    readout.className = "readout small muted";
    const options = {
      width: Math.max(320, element.clientWidth),
      height: 260,
      cursor: { points: { size: 10 } },
      legend: { show: false },
      scales: { x: { time: true } },
      series: [
        { label: "published" },
        // A figure keeps its value until the next change: a stepped line.
        { label: "confirmed", stroke: "#1f5fa8", width: 2, spanGaps: true,
          paths: uPlot.paths.stepped({ align: 1 }),
          points: { show: true, size: 7, fill: "#1f5fa8" }, value },
        { label: "unconfirmed", stroke: "#c0392b", width: 0, paths: () => null,
          points: { show: true, size: 9, width: 2, fill: "#fff" }, value },
        { label: "range top", show: hasRange, stroke: "rgba(31,95,168,0.35)", width: 1,
          spanGaps: true, paths: uPlot.paths.stepped({ align: 1 }), points: { show: false },
          value },
        { label: "range bottom", show: hasRange, stroke: "rgba(31,95,168,0.35)", width: 1,
          spanGaps: true, paths: uPlot.paths.stepped({ align: 1 }), points: { show: false },
          value },
      ],
      bands: hasRange ? [{ series: [3, 4], fill: "rgba(31,95,168,0.15)" }] : [],
      axes: [{}, { size: 70, values: (u, ticks) => ticks.map((t) => number.format(t)) }],
      hooks: {
        setCursor: [
          (u) => {
            const p = points[u.cursor.idx];
            readout.textContent = p
              ? `${new Date(p.t * 1000).toISOString().slice(0, 10)}  ${p.q === "exact" ? "" : p.q + " "}` +
                `${number.format(p.v)}${p.u == null ? "" : "–" + number.format(p.u)}` +
                `${p.c ? "" : " (unconfirmed)"} · ${p.s || ""}`
              : "";
          },
        ],
        draw: [
          () => {
            // What a test (or a person with the console open) can check: how many
            // readings are on the canvas.
            element.dataset.points = String(
              confirmed.filter((v) => v != null).length +
                unconfirmed.filter((v) => v != null).length
            );
          },
        ],
      },
    };
    const chart = new uPlot(options, [xs, confirmed, unconfirmed, top, bottom], element);
    element.appendChild(readout);
    chart.over.addEventListener("click", () => {
      const index = chart.cursor.idx;
      // Each point's row on the figure's page: its quote, document and sources.
      if (index != null && points[index]) window.location.href = `${data.link}?around=${index}#p${index}`;
    });
    chart.over.title = "Click a point for its quote, document and sources";
    charts[element.dataset.figure] = chart;
  }

  document.querySelectorAll(".chart").forEach(draw);
})();
