"""The report page's frame: inline CSS and JavaScript (no fonts, scripts or images from anywhere else)."""

# ruff: noqa: E501  (CSS and JavaScript kept one rule per line read better than wrapped to 120 columns)

from __future__ import annotations

from html import escape

CSS = """
:root {
  --bg: #f4f5f7; --panel: #ffffff; --ink: #1d2733; --soft: #5b6675; --line: #e3e6ea;
  --bad: #c2372b; --bad-bg: #fdecea; --warn: #a86400; --warn-bg: #fff4de; --good: #23784a; --good-bg: #e6f4ec;
  --accent: #2457a6; --chart: #2457a6; --chart-fill: rgba(36, 87, 166, .12);
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1180px; margin: 0 auto; padding: 28px 24px 40px; }
header { margin-bottom: 18px; }
.brand { font-weight: 700; letter-spacing: .08em; text-transform: uppercase; font-size: 11px; color: var(--accent); }
h1 { font-size: 26px; margin: 4px 0 6px; font-weight: 650; }
h2 { font-size: 17px; margin: 0 0 4px; font-weight: 650; }
.headline { font-size: 16px; margin: 0 0 4px; font-weight: 550; padding-left: 12px; border-left: 4px solid var(--line); }
.headline.bad { border-color: var(--bad); color: var(--bad); }
.headline.warn { border-color: var(--warn); color: var(--warn); }
.headline.good { border-color: var(--good); color: var(--good); }
.meta, .note, footer { color: var(--soft); font-size: 12.5px; }
.note { margin: 0 0 12px; }
.note.warn { color: var(--warn); margin-top: 10px; }
section { background: var(--panel); border: 1px solid var(--line); border-radius: 10px; padding: 18px 20px; margin: 16px 0; }
.cards { display: grid; grid-template-columns: repeat(6, 1fr); gap: 12px; background: none; border: 0; padding: 0; }
.card { background: var(--panel); border: 1px solid var(--line); border-radius: 10px; padding: 14px 16px; border-top: 4px solid var(--line); }
.card .value { font-size: 30px; font-weight: 700; line-height: 1.1; font-variant-numeric: tabular-nums; }
.card .label { font-weight: 600; margin-top: 2px; }
.card .hint { color: var(--soft); font-size: 12px; }
.card.bad { border-top-color: var(--bad); } .card.bad .value { color: var(--bad); }
.card.warn { border-top-color: var(--warn); } .card.warn .value { color: var(--warn); }
.card.good { border-top-color: var(--good); } .card.good .value { color: var(--good); }
.charts { display: grid; grid-template-columns: repeat(4, 1fr); gap: 14px; }
.chart { margin: 0; border: 1px solid var(--line); border-radius: 8px; padding: 10px 10px 4px; }
.chart figcaption { margin-bottom: 2px; }
.chart .top { display: flex; align-items: baseline; gap: 8px; }
.chart .kind { font-weight: 600; flex: 1; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.chart .now { font-size: 22px; font-weight: 700; font-variant-numeric: tabular-nums; }
.chart .delta { color: var(--soft); font-size: 11.5px; margin-top: -2px; }
.chart svg { width: 100%; height: auto; display: block; }
.chart .area { fill: var(--chart-fill); stroke: none; }
.chart .line { fill: none; stroke: var(--chart); stroke-width: 2; stroke-linejoin: round; }
.chart .dot { fill: var(--chart); opacity: 0; } .chart .dot:hover { opacity: 1; }
.chart .grid { stroke: var(--line); stroke-dasharray: 3 3; } .chart .axis { stroke: #c9ced5; }
.chart .tick { fill: var(--soft); font-size: 10px; }
.chart[data-kind="password"] { --chart: #7a4cc2; --chart-fill: rgba(122, 76, 194, .13); }
.chart[data-kind="access_keys"] { --chart: #c2372b; --chart-fill: rgba(194, 55, 43, .12); }
.chart[data-kind="signing_certificates"] { --chart: #b36b00; --chart-fill: rgba(179, 107, 0, .13); }
.chart[data-kind="mfa"] { --chart: #1f7a8c; --chart-fill: rgba(31, 122, 140, .13); }
table { width: 100%; border-collapse: collapse; }
th, td { text-align: left; padding: 7px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-size: 12px; text-transform: uppercase; letter-spacing: .04em; color: var(--soft); font-weight: 600;
  position: sticky; top: 0; background: var(--panel); }
table.sortable th { cursor: pointer; user-select: none; white-space: nowrap; }
table.sortable th::after { content: " \\2195"; color: #c0c6ce; }
table.sortable th[aria-sort="ascending"]::after { content: " \\2191"; color: var(--ink); }
table.sortable th[aria-sort="descending"]::after { content: " \\2193"; color: var(--ink); }
tbody tr:hover { background: #f8f9fb; }
.name { font-weight: 600; } td.acct { min-width: 170px; } .id { color: var(--soft); font: 12px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
.msg { color: var(--soft); font-size: 12px; max-width: 420px; overflow-wrap: anywhere; }
.fix { color: var(--soft); font-size: 12px; margin-top: 2px; }
.reason { max-width: 300px; font-size: 12.5px; }
.muted { color: #9aa3ad; }
td.date { white-space: nowrap; font-variant-numeric: tabular-nums; }
.chip { display: inline-block; border-radius: 4px; padding: 0 6px; margin: 1px 4px 1px 0; font-size: 12px; font-weight: 600;
  background: #eef1f5; white-space: nowrap; }
.chip.password { background: #efe8fa; color: #5d35a0; } .chip.access_keys { background: var(--bad-bg); color: var(--bad); }
.chip.signing_certificates { background: var(--warn-bg); color: var(--warn); } .chip.mfa { background: #e3f3f6; color: #17606e; }
.chip.waived { background: #eef1f5; color: #6b7480; font-weight: 500; }
.pill { display: inline-block; border-radius: 999px; padding: 1px 9px; font-size: 12px; font-weight: 600; white-space: nowrap; }
.pill.action { background: var(--bad-bg); color: var(--bad); } .pill.error { background: var(--warn-bg); color: var(--warn); }
.pill.exempt { background: #eef1f5; color: #47515e; } .pill.clean { background: var(--good-bg); color: var(--good); }
.pill.skipped { background: #f1f2f4; color: #8a939e; }
.pill.severity-critical { background: var(--bad-bg); color: var(--bad); } .pill.severity-high { background: var(--warn-bg); color: var(--warn); }
.pill.severity-medium { background: #eef1f5; color: #47515e; } .pill.severity-low { background: #f1f2f4; color: #8a939e; }
.toolbar { display: flex; gap: 12px; align-items: center; flex-wrap: wrap; margin-bottom: 8px; }
.toolbar input { flex: 0 1 320px; padding: 7px 10px; border: 1px solid #cfd5dc; border-radius: 6px; font: inherit; }
.filters button { font: inherit; font-size: 12.5px; border: 1px solid #cfd5dc; background: var(--panel); padding: 5px 10px;
  border-radius: 6px; cursor: pointer; margin-right: 2px; }
.filters button.active { background: var(--ink); color: #fff; border-color: var(--ink); }
.empty { color: var(--soft); } .empty.good { color: var(--good); }
code { font: 12px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: #f1f3f6; padding: 1px 4px; border-radius: 3px; }
footer { text-align: center; margin-top: 20px; }
@media (max-width: 900px) { .cards { grid-template-columns: repeat(3, 1fr); } .charts { grid-template-columns: repeat(2, 1fr); } }
@media print { body { background: #fff; } section, .card { break-inside: avoid; } .toolbar { display: none; } th { position: static; } }
"""

JS = """
(function () {
  function key(row, col) {
    var cell = row.cells[col];
    return cell ? (cell.getAttribute('data-sort') !== null ? cell.getAttribute('data-sort') : cell.textContent.trim()) : '';
  }
  function sortTable(table, col, dir) {
    var numeric = table.tHead.rows[0].cells[col].getAttribute('data-type') === 'num';
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = key(a, col), y = key(b, col);
      var c = numeric ? (parseFloat(x) || 0) - (parseFloat(y) || 0) : x.localeCompare(y);
      if (c === 0) { c = key(a, 1).localeCompare(key(b, 1)); }
      return c * dir;
    });
    rows.forEach(function (r) { body.appendChild(r); });
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, i) {
      if (i === col) { th.setAttribute('aria-sort', dir > 0 ? 'ascending' : 'descending'); } else { th.removeAttribute('aria-sort'); }
    });
    table.setAttribute('data-sorted', col + ':' + (dir > 0 ? 'asc' : 'desc'));
  }
  Array.prototype.forEach.call(document.querySelectorAll('table.sortable'), function (table) {
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, col) {
      th.addEventListener('click', function () {
        var current = th.getAttribute('aria-sort');
        sortTable(table, col, current === 'ascending' ? -1 : 1);
      });
    });
  });
  var accounts = document.getElementById('accounts');
  if (!accounts) { return; }
  var filter = document.getElementById('filter');
  var shown = document.getElementById('shown');
  var group = 'all';
  function apply() {
    var text = (filter.value || '').toLowerCase();
    var rows = accounts.tBodies[0].rows, visible = 0;
    for (var i = 0; i < rows.length; i++) {
      var ok = (group === 'all' || rows[i].getAttribute('data-group') === group) &&
               (!text || rows[i].textContent.toLowerCase().indexOf(text) >= 0);
      rows[i].style.display = ok ? '' : 'none';
      if (ok) { visible++; }
    }
    shown.textContent = 'Showing ' + visible + ' of ' + rows.length + ' accounts';
  }
  filter.addEventListener('input', apply);
  Array.prototype.forEach.call(document.querySelectorAll('.filters button'), function (button) {
    button.addEventListener('click', function () {
      group = button.getAttribute('data-filter');
      Array.prototype.forEach.call(document.querySelectorAll('.filters button'), function (b) { b.classList.remove('active'); });
      button.classList.add('active');
      apply();
    });
  });
  // Default order: what needs a person first. A link may ask for another: report.html#sort=2:desc
  var wanted = /sort=(\\d+)(?::(asc|desc))?/.exec(location.hash);
  var headers = accounts.tHead.rows[0].cells;
  if (wanted && +wanted[1] < headers.length) {
    sortTable(accounts, +wanted[1], wanted[2] === 'desc' ? -1 : 1);
  } else {
    sortTable(accounts, 0, 1);
  }
  apply();
  document.documentElement.setAttribute('data-ready', 'true');
})();
"""

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="rootwatch report">
<title>@@TITLE@@</title>
<style>@@CSS@@</style>
</head>
<body>
<main>
@@BODY@@
</main>
<script>@@JS@@</script>
</body>
</html>
"""


def page(title: str, body: str) -> str:
    """The complete document around ``body`` (already-escaped HTML)."""
    return (
        _PAGE.replace("@@TITLE@@", escape(title))
        .replace("@@CSS@@", CSS)
        .replace("@@JS@@", JS)
        .replace("@@BODY@@", body)
    )
