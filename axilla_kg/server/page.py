"""The endpoint's HTML page: type a query, run it, see a table; the named queries one click away.

Self-contained on purpose (inline CSS and script, no CDN): it works offline, loads nothing from
other hosts, and the server sends a Content-Security-Policy that would block any such load. The
named queries are embedded as JSON; running one with its parameter fields goes through
``/queries/NAME``, so the server binds the values as typed terms, exactly like the CLI.
"""

from __future__ import annotations

import html
import json

from axilla_kg.graph.queries import QueryLibrary
from axilla_kg.vocab import AX

_STYLE = """
body{font:14px system-ui,sans-serif;margin:1.5em;max-width:1200px;color:#222}
h1{font-size:1.3em}ul.named{columns:3;padding-left:1.2em}ul.named button{border:0;background:none;color:#0645ad;
cursor:pointer;padding:0;text-align:left}textarea{width:100%;height:16em;font:13px monospace}
table{border-collapse:collapse;margin-top:1em}td,th{border:1px solid #ccc;padding:2px 6px;vertical-align:top}
th{background:#f3f3f3}#params label{margin-right:1em}#status{margin:.5em 0;color:#555}.error{color:#b00}
pre{background:#f7f7f7;padding:.5em;overflow:auto}
"""

_SCRIPT = """
const NAMED = JSON.parse(document.getElementById('named-data').textContent);
let current = null;
const $ = (id) => document.getElementById(id);
function pick(name) {
  current = NAMED.find((q) => q.name === name);
  $('query').value = current.query;
  $('about').textContent = current.title + ': ' + current.answers;
  const box = $('params'); box.textContent = '';
  for (const p of current.parameters) {
    const label = document.createElement('label');
    label.textContent = p.name + (p.required ? ' (required) ' : ' ');
    const input = document.createElement('input');
    input.name = p.name; input.placeholder = p.default || p.type; input.title = p.doc;
    label.appendChild(input); box.appendChild(label);
  }
}
function cell(term) {
  if (!term) return '';
  if (term.type === 'literal' && term['xml:lang']) return term.value + '@' + term['xml:lang'];
  return term.type === 'bnode' ? '_:' + term.value : term.value;
}
async function run() {
  const text = $('query').value;
  let response;
  $('status').textContent = 'running...'; $('status').className = '';
  const accept = 'application/sparql-results+json, text/turtle;q=0.9';
  const started = performance.now();
  if (current && text === current.query) {
    const args = new URLSearchParams();
    for (const input of $('params').querySelectorAll('input')) if (input.value) args.set(input.name, input.value);
    response = await fetch('queries/' + current.name + '?' + args, {headers: {Accept: accept}});
  } else {
    response = await fetch('sparql', {method: 'POST', headers: {Accept: accept},
                                       body: new URLSearchParams({query: text})});
  }
  const ms = Math.round(performance.now() - started);
  const out = $('result'); out.textContent = '';
  const type = response.headers.get('Content-Type') || '';
  if (!response.ok) {
    $('status').textContent = response.status + ': ' + await response.text(); $('status').className = 'error';
    return;
  }
  if (type.startsWith('application/sparql-results+json')) {
    const data = await response.json();
    if ('boolean' in data) { $('status').textContent = 'answer: ' + data.boolean + ' (' + ms + ' ms)'; return; }
    const table = document.createElement('table');
    const head = table.insertRow();
    for (const v of data.head.vars) {
      const th = document.createElement('th'); th.textContent = v; head.appendChild(th);
    }
    for (const row of data.results.bindings) {
      const tr = table.insertRow();
      for (const v of data.head.vars) tr.insertCell().textContent = cell(row[v]);
    }
    out.appendChild(table);
    $('status').textContent = data.results.bindings.length + ' rows (' + ms + ' ms)';
  } else {
    const pre = document.createElement('pre'); pre.textContent = await response.text(); out.appendChild(pre);
    $('status').textContent = 'graph (' + ms + ' ms)';
  }
}
$('run').addEventListener('click', run);
$('query').addEventListener('keydown', (e) => { if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) run(); });
document.querySelectorAll('ul.named button').forEach((b) => b.addEventListener('click', () => pick(b.dataset.name)));
"""

_DEFAULT_QUERY = (
    f"PREFIX ax: <{AX}>\n"
    + """SELECT ?topic ?number ?title WHERE {
  ?t a ax:Topic ; ax:topicKey ?topic ; ax:topicNumber ?number ; ax:topicTitle ?title .
} ORDER BY ?number"""
)


def render_page(library: QueryLibrary) -> str:
    named = [
        {
            "name": q.name,
            "title": q.title,
            "answers": q.answers,
            "query": q.text,
            "parameters": [
                {"name": p.name, "type": p.type, "required": p.required, "default": p.default, "doc": p.doc}
                for p in q.parameters
            ],
        }
        for q in library
    ]
    # '<' escaped so that no query text can close the <script> element early
    data = json.dumps(named, ensure_ascii=False).replace("<", "\\u003c")
    items = "".join(
        f'<li><button type="button" data-name="{html.escape(q.name)}" title="{html.escape(q.answers)}">'
        f"{html.escape(q.name)}</button></li>"
        for q in library
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>axilla-kg SPARQL endpoint</title>
<style>{_STYLE}</style></head>
<body>
<h1>axilla-kg SPARQL endpoint</h1>
<p>ACR Appropriateness Criteria "Imaging of the Axilla" knowledge graph (ACR content &copy; American College of
Radiology). Read-only SPARQL 1.1 at <code>sparql</code>; prefixes <code>ax:</code>, <code>axd:</code>,
<code>rdfs:</code>, <code>skos:</code>, <code>prov:</code>, <code>dcterms:</code>, <code>owl:</code>,
<code>xsd:</code> are predeclared.</p>
<h2>Named queries</h2>
<ul class="named">{items}</ul>
<p id="about"></p>
<div id="params"></div>
<textarea id="query" spellcheck="false">{html.escape(_DEFAULT_QUERY)}</textarea>
<p><button id="run" type="button">Run (Ctrl+Enter)</button></p>
<div id="status"></div>
<div id="result"></div>
<script type="application/json" id="named-data">{data}</script>
<script>{_SCRIPT}</script>
</body></html>
"""
