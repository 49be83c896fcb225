/* Language switch (remembered; also carried in links as ?lang=), table filters and sorting, and the commune
   pages' grouped exception rows (gzip JSON in <code>.rows.js, shown a page at a time). No network, no server. */
(function () {
  "use strict";
  var KEY = "doisoat-lang";
  function current() { return document.documentElement.classList.contains("lang-en") ? "en" : "vi"; }
  function locale() { return current() === "vi" ? "vi-VN" : "en-US"; }
  function setLang(lang) {
    var root = document.documentElement;
    root.classList.remove("lang-vi", "lang-en");
    root.classList.add("lang-" + lang);
    root.lang = lang;
    try { localStorage.setItem(KEY, lang); } catch (e) { /* storage may be off for file:// */ }
    document.querySelectorAll("a[data-internal]").forEach(function (a) {
      var href = a.getAttribute("href").replace(/([?&])lang=(vi|en)&?/, "$1").replace(/[?&]$/, "");
      var hash = "";
      var i = href.indexOf("#");
      if (i >= 0) { hash = href.slice(i); href = href.slice(0, i); }
      a.setAttribute("href", href + (href.indexOf("?") >= 0 ? "&" : "?") + "lang=" + lang + hash);
    });
    // texts that cannot hold two spans: the title, placeholders, labels, options — one language at a time
    document.querySelectorAll("[data-" + lang + "]").forEach(function (el) { el.textContent = el.getAttribute("data-" + lang); });
    document.querySelectorAll("[data-placeholder-" + lang + "]").forEach(function (el) {
      el.setAttribute("placeholder", el.getAttribute("data-placeholder-" + lang));
    });
    document.querySelectorAll("[data-label-" + lang + "]").forEach(function (el) {
      el.setAttribute("aria-label", el.getAttribute("data-label-" + lang));
    });
    document.querySelectorAll("[data-num]").forEach(function (el) {
      el.textContent = Number(el.getAttribute("data-num")).toLocaleString(locale());
    });
    if (window.Plotly) {
      document.querySelectorAll(".js-plotly-plot").forEach(function (el) {
        if (el.offsetParent !== null) { window.Plotly.Plots.resize(el); }
      });
    }
  }
  function fold(text) {
    return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/đ/g, "d").replace(/Đ/g, "D").toLowerCase();
  }
  function wireFilter(input) {
    var table = document.getElementById(input.getAttribute("data-filter"));
    var counter = document.querySelector("[data-count='" + input.getAttribute("data-filter") + "']");
    function apply() {
      var needle = fold(input.value.trim());
      var shown = 0;
      table.querySelectorAll("tbody tr").forEach(function (tr) {
        var ok = !needle || fold(tr.textContent).indexOf(needle) >= 0;
        tr.style.display = ok ? "" : "none";
        if (ok) { shown += 1; }
      });
      if (counter) { counter.setAttribute("data-num", shown); counter.textContent = shown.toLocaleString(locale()); }
    }
    input.addEventListener("input", apply);
  }
  function wireSort(button) {
    var table = document.getElementById(button.getAttribute("data-sort-table"));
    button.addEventListener("click", function () {
      var key = button.getAttribute("data-sort");
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = parseFloat(a.getAttribute("data-" + key)), y = parseFloat(b.getAttribute("data-" + key));
        if (isNaN(x)) { x = -1; } if (isNaN(y)) { y = -1; }
        return y - x;
      });
      rows.forEach(function (r) { body.appendChild(r); });
      document.querySelectorAll("[data-sort-table='" + table.id + "']").forEach(function (b) {
        b.classList.toggle("on", b === button);
      });
    });
  }

  /* ---- a commune's exception rows ---- */
  function decode(b64) {
    var bin = atob(b64), bytes = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i += 1) { bytes[i] = bin.charCodeAt(i); }
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
    return new Response(stream).text().then(JSON.parse);
  }
  function esc(text) {
    return String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
  }
  function both(pair) {
    return '<span class="l-vi">' + esc(pair[0]) + '</span><span class="l-en">' + esc(pair[1]) + "</span>";
  }
  function probability(p) {
    return '<span class="l-vi">' + p.toLocaleString("vi-VN", { maximumFractionDigits: 4 }) + '</span><span class="l-en">' +
      p.toLocaleString("en-US", { maximumFractionDigits: 4 }) + "</span>";
  }
  function wireGroups(container) {
    var labels = JSON.parse(document.getElementById("row-labels").textContent);
    var size = parseInt(container.getAttribute("data-page"), 10);
    var outside = container.getAttribute("data-outside") === "1";
    var search = document.getElementById("row-search");
    var pick = document.getElementById("rule-pick");
    var counter = document.getElementById("row-count");
    var groups = Array.prototype.slice.call(container.querySelectorAll(".xgroup"));
    var state = groups.map(function () { return { rows: [], page: 0 }; });
    var data = null;
    function rowHtml(r) {
      // columns: reference, record_key, name, linked_id, method, probability, verify, commune, new, open_nights
      var method = r[4] >= 0 ? both(labels.methods[r[4]]) : "–";
      var age = r[8] ? ' <span class="badge new-row">' + both(labels["new"]) + "</span>" :
        (r[9] > 0 ? '<span class="age">' + both([labels.open[0].replace("{n}", r[9]), labels.open[1].replace("{n}", r[9])]) + "</span>" : "");
      if (r[5] !== null && r[4] === 2) { method += " " + probability(r[5]); }
      var verify = r[6] ? '<div class="verify">' + both(labels.verify) + "</div>" : "";
      return '<tr' + (r[8] ? ' class="is-new"' : "") + '><td class="code ref">' + esc(r[0]) + '</td><td class="code">' + esc(r[1] || "–") + "</td><td class=\"nowrap\">" +
        esc(r[2] || "–") + age + '</td><td class="code hide-sm">' + esc(r[3] || "–") + '</td><td class="small">' + method + verify + "</td>" +
        (outside ? '<td class="small">' + esc(r[7]) + "</td>" : "") + "</tr>";
    }
    function render(i) {
      var g = groups[i], s = state[i];
      var pages = Math.max(1, Math.ceil(s.rows.length / size));
      s.page = Math.min(s.page, pages - 1);
      var start = s.page * size, slice = s.rows.slice(start, start + size);
      g.querySelector("tbody").innerHTML = slice.map(rowHtml).join("");
      var range = s.rows.length ? (start + 1).toLocaleString(locale()) + "–" + (start + slice.length).toLocaleString(locale()) : "0";
      g.querySelector(".range").textContent = range + " / " + s.rows.length.toLocaleString(locale());
      g.querySelector("[data-prev]").disabled = s.page === 0;
      g.querySelector("[data-next]").disabled = s.page >= pages - 1;
      g.querySelector(".pager").style.display = s.rows.length > size ? "" : "none";
    }
    function apply() {
      if (!data) { return; }
      var needle = fold(search.value.trim());
      var rule = pick.value, shown = 0;
      groups.forEach(function (g, i) {
        var all = data.groups[i];
        var rows = needle ? all.filter(function (r) { return fold(r.join(" ")).indexOf(needle) >= 0; }) : all;
        var visible = (!rule || g.getAttribute("data-rule") === rule) && rows.length > 0;
        g.style.display = visible ? "" : "none";
        state[i].rows = rows;
        state[i].page = 0;
        if (visible) { shown += rows.length; render(i); }
        if (visible && (rule || needle)) { g.open = true; }
      });
      container.querySelectorAll(".source-head").forEach(function (h) {
        var next = h.nextElementSibling, any = false;
        while (next && next.classList.contains("xgroup")) { if (next.style.display !== "none") { any = true; } next = next.nextElementSibling; }
        h.style.display = any ? "" : "none";
      });
      counter.setAttribute("data-num", shown);
      counter.textContent = shown.toLocaleString(locale());
    }
    groups.forEach(function (g, i) {
      g.addEventListener("toggle", function () { if (g.open && data) { render(i); } });
      g.querySelector("[data-prev]").addEventListener("click", function () { state[i].page -= 1; render(i); });
      g.querySelector("[data-next]").addEventListener("click", function () { state[i].page += 1; render(i); });
    });
    search.addEventListener("input", apply);
    pick.addEventListener("change", apply);
    document.querySelectorAll("[data-pick-rule]").forEach(function (a) {
      a.addEventListener("click", function () { pick.value = a.getAttribute("data-pick-rule"); apply(); });
    });
    document.getElementById("lang-switch").addEventListener("click", function () {
      groups.forEach(function (g, i) { if (g.style.display !== "none") { render(i); } });
    });
    if (!window.DOISOAT_ROWS) { return; }
    decode(window.DOISOAT_ROWS).then(function (payload) {
      data = payload;
      apply();
      container.setAttribute("data-loaded", "1");
    });
    document.querySelectorAll("[data-export]").forEach(function (button) {
      button.addEventListener("click", function () {
        if (!data) { return; }
        var lang = current(), kind = button.getAttribute("data-export");
        var header = labels.columns[lang === "vi" ? 0 : 1], rows = exportRows(data, labels, lang);
        var name = labels.file + "_" + lang + "." + kind;
        download(kind === "xlsx" ? xlsx(header, rows, labels.sheet[lang === "vi" ? 0 : 1]) : csv(header, rows), name);
      });
    });
  }

  /* ---- the exception list as a file, built in the browser from the page's rows (no file per commune on disk:
     a province's report stays within its size budget) ---- */
  var CRC = (function () {
    var table = new Uint32Array(256);
    for (var n = 0; n < 256; n += 1) {
      var c = n;
      for (var k = 0; k < 8; k += 1) { c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1; }
      table[n] = c >>> 0;
    }
    return table;
  })();
  function crc32(bytes) {
    var c = 0xffffffff;
    for (var i = 0; i < bytes.length; i += 1) { c = CRC[(c ^ bytes[i]) & 0xff] ^ (c >>> 8); }
    return (c ^ 0xffffffff) >>> 0;
  }
  function zip(files) {  // [{name, bytes}] → Blob of a stored (uncompressed) zip archive
    var parts = [], central = [], offset = 0, enc = new TextEncoder();
    files.forEach(function (f) {
      var name = enc.encode(f.name), crc = crc32(f.bytes), size = f.bytes.length;
      var local = new DataView(new ArrayBuffer(30));
      local.setUint32(0, 0x04034b50, true); local.setUint16(4, 20, true); local.setUint16(6, 0x0800, true);
      local.setUint32(14, crc, true); local.setUint32(18, size, true); local.setUint32(22, size, true);
      local.setUint16(26, name.length, true);
      parts.push(local.buffer, name, f.bytes);
      var dir = new DataView(new ArrayBuffer(46));
      dir.setUint32(0, 0x02014b50, true); dir.setUint16(4, 20, true); dir.setUint16(6, 20, true);
      dir.setUint16(8, 0x0800, true); dir.setUint32(16, crc, true); dir.setUint32(20, size, true);
      dir.setUint32(24, size, true); dir.setUint16(28, name.length, true); dir.setUint32(42, offset, true);
      central.push(dir.buffer, name);
      offset += 30 + name.length + size;
    });
    var length = central.reduce(function (n, b) { return n + (b.byteLength || b.length); }, 0);
    var end = new DataView(new ArrayBuffer(22));
    end.setUint32(0, 0x06054b50, true); end.setUint16(8, files.length, true); end.setUint16(10, files.length, true);
    end.setUint32(12, length, true); end.setUint32(16, offset, true);
    return new Blob(parts.concat(central, [end.buffer]), { type: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" });
  }
  function xml(text) {
    return String(text).replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, "")
      .replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  }
  var SHEET_ROWS = 1048575;
  function xlsx(header, rows, sheetName) {
    var enc = new TextEncoder(), sheets = [];
    for (var start = 0; start === 0 || start < rows.length; start += SHEET_ROWS) { sheets.push(rows.slice(start, start + SHEET_ROWS)); }
    var cell = function (v) { return '<c t="inlineStr"><is><t xml:space="preserve">' + xml(v) + "</t></is></c>"; };
    var files = [], overrides = "", rels = "", list = "";
    sheets.forEach(function (part, i) {
      var n = i + 1, body = ['<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">' +
        '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/></sheetView></sheetViews>' +
        "<sheetData><row>" + header.map(cell).join("") + "</row>"];
      part.forEach(function (r) { body.push("<row>" + r.map(cell).join("") + "</row>"); });
      body.push("</sheetData></worksheet>");
      files.push({ name: "xl/worksheets/sheet" + n + ".xml", bytes: enc.encode(body.join("")) });
      overrides += '<Override PartName="/xl/worksheets/sheet' + n + '.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>';
      rels += '<Relationship Id="rId' + n + '" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet' + n + '.xml"/>';
      list += '<sheet name="' + xml(sheetName + (n > 1 ? " (" + n + ")" : "")) + '" sheetId="' + n + '" r:id="rId' + n + '"/>';
    });
    files.unshift(
      { name: "[Content_Types].xml", bytes: enc.encode('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">' +
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>' +
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>' + overrides + "</Types>") },
      { name: "_rels/.rels", bytes: enc.encode('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">' +
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>') },
      { name: "xl/workbook.xml", bytes: enc.encode('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" ' +
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>' + list + "</sheets></workbook>") },
      { name: "xl/_rels/workbook.xml.rels", bytes: enc.encode('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">' + rels + "</Relationships>") }
    );
    return zip(files);
  }
  function csv(header, rows) {
    var field = function (v) { v = String(v); return /[",\r\n]/.test(v) ? '"' + v.replace(/"/g, '""') + '"' : v; };
    var lines = [header.map(field).join(",")];
    rows.forEach(function (r) { lines.push(r.map(field).join(",")); });
    return new Blob(["\ufeff" + lines.join("\r\n") + "\r\n"], { type: "text/csv;charset=utf-8" });
  }
  function exportRows(data, labels, lang) {
    // one row per finding in the page's language: what the page lists, every row
    var i = lang === "vi" ? 0 : 1, out = [];
    data.groups.forEach(function (rows, g) {
      var meta = labels.groups[g];
      rows.forEach(function (r) {
        var action = (r[6] ? labels.verify[i] + " " : "") + meta.action[i];
        out.push([r[7] ? r[7].split(" ")[0] : labels.commune, meta.source[i], r[0], r[1], r[2], r[3],
          r[4] >= 0 ? labels.methods[r[4]][i] : "", r[5] === null ? "" : String(r[5]), meta.rule, meta.criterion[i], action,
          r[8] ? labels["new"][i] : "", r[9] >= 0 ? String(r[9]) : ""]);
      });
    });
    return out;
  }
  function download(blob, name) {
    var a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = name;
    document.body.appendChild(a);
    a.click();
    setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
  }

  document.addEventListener("DOMContentLoaded", function () {
    setLang(current());
    var button = document.getElementById("lang-switch");
    if (button) { button.addEventListener("click", function () { setLang(current() === "vi" ? "en" : "vi"); }); }
    document.querySelectorAll("input[data-filter]").forEach(wireFilter);
    document.querySelectorAll("[data-sort]").forEach(wireSort);
    var groups = document.getElementById("groups");
    if (groups) { wireGroups(groups); }
  });
})();
