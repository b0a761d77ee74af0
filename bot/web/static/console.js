// Jiayuan console: the Mini App's launch data travels with every request (the server
// checks it each time); the map is drawn from the points the page carries.
(function () {
  "use strict";
  var KEY = "jyInitData";

  function launchData() {
    var hash = window.location.hash.replace(/^#/, "");
    var data = new URLSearchParams(hash).get("tgWebAppData");
    if (data) { sessionStorage.setItem(KEY, data); }
    return sessionStorage.getItem(KEY);
  }

  // Links and images the browser fetches by itself cannot carry a header: add the data.
  function authorise(root) {
    var data = sessionStorage.getItem(KEY);
    if (!data) { return; }
    root.querySelectorAll("img[data-auth], a[data-auth]").forEach(function (el) {
      var attr = el.tagName === "IMG" ? "src" : "href";
      var url = new URL(el.getAttribute(attr), window.location.href);
      if (!url.searchParams.has("tgWebAppData")) {
        url.searchParams.set("tgWebAppData", data);
        el.setAttribute(attr, url.pathname + url.search + url.hash);
      }
    });
  }

  // Names people typed go into the tooltip as text, never as HTML.
  function escapeHtml(text) {
    var box = document.createElement("div");
    box.textContent = String(text);
    return box.innerHTML;
  }

  function drawMap(root) {
    var box = root.querySelector("#map");
    if (!box || box.dataset.drawn || typeof L === "undefined") { return; }
    box.dataset.drawn = "1";
    var points = JSON.parse(document.getElementById("map-points").textContent);
    var map = L.map(box, { zoomControl: true });
    var tiles = box.dataset.tiles;
    if (tiles) {
      // Without tiles (no internet) the points still show on the plain background.
      L.tileLayer(tiles, { maxZoom: 19, attribution: "© OpenStreetMap" }).addTo(map);
    }
    // The view first: markers are drawn by a renderer that needs one.
    var bounds = points.map(function (p) { return [p.lat, p.lon]; });
    if (bounds.length) { map.fitBounds(bounds, { padding: [30, 30], maxZoom: 17 }); }
    else { map.setView([30.27, 120.15], 14); }
    points.forEach(function (p) {
      var colour = p.kind === "site" ? "#2b6cb0" : (p.overdue ? "#c53030" : "#dd6b20");
      var marker = L.circleMarker([p.lat, p.lon], {
        radius: p.kind === "site" ? 6 : 9, color: colour, fillColor: colour, fillOpacity: 0.7
      }).addTo(map);
      var label = p.kind === "site" ? p.name + " · " + p.category
        : p.number + " · " + p.label + " · " + p.place;
      marker.bindTooltip(escapeHtml(label));
      if (p.kind === "ticket") {
        marker.on("click", function () { window.location.href = p.href; });
      }
    });
  }

  function ready(root) { authorise(root); drawMap(root); }

  document.addEventListener("htmx:configRequest", function (event) {
    var data = sessionStorage.getItem(KEY);
    if (data) { event.detail.headers["X-Telegram-Init-Data"] = data; }
  });
  document.addEventListener("htmx:afterSettle", function (event) { ready(event.target); });
  document.addEventListener("DOMContentLoaded", function () {
    var shell = document.getElementById("mini-app");
    if (shell) {
      var data = launchData();
      if (data) {
        // The first page is an ordinary load carrying the data; later ones send it as a header.
        window.location.replace(shell.dataset.next + "?tgWebAppData=" + encodeURIComponent(data));
      } else {
        document.getElementById("no-launch-data").hidden = false;
      }
      return;
    }
    var url = new URL(window.location.href);
    var given = url.searchParams.get("tgWebAppData");
    if (given) {
      sessionStorage.setItem(KEY, given);
      url.searchParams.delete("tgWebAppData");
      history.replaceState(null, "", url.pathname + url.search + url.hash);
    }
    ready(document);
  });
})();
