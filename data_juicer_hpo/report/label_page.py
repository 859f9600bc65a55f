"""``label.html``: a page to label the ``labels`` objective's sample (``to_label.jsonl``) keep or drop.

One self-contained file beside the sample (the documents inside it, inline script and style, no request): one
document at a time, shown as text, with keep/drop on the keyboard (K or the right arrow: keep; D or the left arrow:
drop; S or the down arrow: skip; U, Backspace or the up arrow: back), the progress so far, and a button (or Ctrl+S)
that saves ``labels.jsonl`` as a download -- nothing leaves the machine. Labels made so far survive a reload (the
browser's local storage, keyed by the sample's content).

``labels.jsonl`` is what ``auto_hpo.labels`` reads: one JSON object per labelled document, every field of its
``to_label.jsonl`` record (the recipe's text key, its metadata) plus the label under ``label_key`` (default
``keep``), ``true`` to keep and ``false`` to drop, in the sample's order; skipped documents are left out. A record
that already carries a true/false label under ``label_key`` starts with it (a saved ``labels.jsonl`` opens again
for review).

    python -m data_juicer_hpo.report.label_page to_label.jsonl [--text-key text] [--label-key keep]
"""

import argparse
import hashlib
import json
import os
import sys
from typing import List, Optional

from data_juicer_hpo.errors import AutoHpoError
from data_juicer_hpo.files import write_atomic
from data_juicer_hpo.report.html import esc, page

__all__ = ["LABELS_FILE", "read_sample", "label_page_html", "write_label_page", "main"]

LABELS_FILE = "labels.jsonl"
KEY = "to_label"

STYLE = """
#app{margin-top:10px}.row{display:flex;gap:12px;align-items:center;flex-wrap:wrap;margin:8px 0}
progress{width:320px;height:14px}.badge{font-size:12px;padding:2px 8px;border-radius:10px;background:#eee}
.badge.keep{background:#d8f0df;color:#1d6b3a}.badge.drop{background:#f8dcd8;color:#8f2a1f}
button{font:inherit;padding:6px 14px;border-radius:6px;border:1px solid #bbb;background:#fafafa;cursor:pointer}
button.keep{border-color:#2e8b57;color:#1d6b3a}button.drop{border-color:#c0392b;color:#8f2a1f}
button.save{background:#0b5cad;color:#fff;border-color:#0b5cad}
pre#text{max-height:60vh;min-height:8em}kbd{font:12px ui-monospace,monospace;border:1px solid #bbb;
border-radius:3px;padding:0 4px;background:#f5f5f7}
"""

SCRIPT = """(function(){
var data=JSON.parse(document.getElementById('sample').textContent);
var rows=data.rows,tk=data.textKey,lk=data.labelKey,n=rows.length;
var labels=rows.map(function(r){return typeof r[lk]==='boolean'?r[lk]:null;});
var store='dj-hpo-labels:'+data.fingerprint;
try{var kept=JSON.parse(window.localStorage.getItem(store)||'null');
if(kept&&kept.length===n){labels=kept;}}catch(e){}
var $=function(id){return document.getElementById(id);};
var pos=labels.indexOf(null);if(pos<0){pos=0;}
function counts(){var k=0,d=0;labels.forEach(function(v){if(v===true){k++;}else if(v===false){d++;}});
return {keep:k,drop:d};}
function persist(){try{window.localStorage.setItem(store,JSON.stringify(labels));}catch(e){}}
function render(){var r=rows[pos],c=counts(),v=labels[pos];
$('text').textContent=String(r[tk]);
var meta={};Object.keys(r).forEach(function(k){if(k!==tk&&k!==lk){meta[k]=r[k];}});
$('meta').textContent=Object.keys(meta).length?JSON.stringify(meta):'';
$('pos').textContent=String(pos+1);$('length').textContent=String(r[tk]).length.toLocaleString('en');
var b=$('state');b.textContent=v===true?'keep':v===false?'drop':'not labelled';
b.className='badge'+(v===true?' keep':v===false?' drop':'');
$('progress').value=c.keep+c.drop;
$('count').textContent=(c.keep+c.drop)+' of '+n+' labelled \\u00b7 '+c.keep+' keep \\u00b7 '+c.drop+' drop';}
function go(step){pos=Math.min(n-1,Math.max(0,pos+step));render();}
function label(v){labels[pos]=v;persist();if(pos<n-1){go(1);}else{render();}}
function save(){var c=counts(),lines=[];
rows.forEach(function(r,i){if(labels[i]!==null){var o={};Object.keys(r).forEach(function(k){o[k]=r[k];});
o[lk]=labels[i];lines.push(JSON.stringify(o));}});
var blob=new Blob([lines.length?lines.join('\\n')+'\\n':''],{type:'application/x-ndjson'});
var url=URL.createObjectURL(blob),a=document.createElement('a');a.href=url;a.download=data.output;
document.body.appendChild(a);a.click();a.remove();setTimeout(function(){URL.revokeObjectURL(url);},4000);
var note=(c.keep+c.drop<data.minLabels||!c.keep||!c.drop)?' The labels objective needs at least '+data.minLabels+
' labelled documents, both keep and drop.':'';
$('saved').textContent='Saved '+lines.length+' labels ('+c.keep+' keep, '+c.drop+' drop) as '+data.output+
' in your downloads folder.'+note;}
$('keep').addEventListener('click',function(){label(true);});
$('drop').addEventListener('click',function(){label(false);});
$('skip').addEventListener('click',function(){go(1);});
$('back').addEventListener('click',function(){go(-1);});
$('save').addEventListener('click',save);
document.addEventListener('keydown',function(e){
if((e.ctrlKey||e.metaKey)&&(e.key==='s'||e.key==='S')){e.preventDefault();save();return;}
if(e.ctrlKey||e.metaKey||e.altKey){return;}var k=e.key;
if(k==='k'||k==='K'||k==='ArrowRight'){e.preventDefault();label(true);}
else if(k==='d'||k==='D'||k==='ArrowLeft'){e.preventDefault();label(false);}
else if(k==='s'||k==='S'||k==='ArrowDown'){e.preventDefault();go(1);}
else if(k==='u'||k==='U'||k==='Backspace'||k==='ArrowUp'){e.preventDefault();go(-1);}});
$('app').hidden=false;render();
})();"""


def read_sample(path: str, text_key: str = "text") -> List[dict]:
    """The records of a ``to_label.jsonl`` (one JSON object per line, each with a string ``text_key``)."""
    if not os.path.isfile(path):
        raise AutoHpoError(f"{KEY}: file not found (got {path!r})")
    rows = []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as e:
                raise AutoHpoError(f"{KEY}: {path!r} line {number} is not JSON ({e.msg})") from None
            if not isinstance(row, dict) or not isinstance(row.get(text_key), str):
                raise AutoHpoError(f"{KEY}: {path!r} line {number} has no string field {text_key!r} (the text key)")
            rows.append(row)
    if not rows:
        raise AutoHpoError(f"{KEY}: {path!r} holds no document")
    return rows


def _json_for_script(value) -> str:
    """JSON that cannot end its ``<script>`` element early (``</script>`` inside a document stays text)."""
    text = json.dumps(value, ensure_ascii=False)
    for char, code in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"),
                       ("\u2029", "\\u2029")):  # fmt: skip
        text = text.replace(char, code)
    return text


def label_page_html(rows: List[dict], source: str, text_key: str = "text", label_key: str = "keep",
                    min_labels: int = 20) -> str:  # fmt: skip
    """The page for ``rows`` (read from the file named ``source``)."""
    fingerprint = hashlib.sha256(_json_for_script([text_key, rows]).encode("utf-8")).hexdigest()[:16]
    data = {"rows": rows, "textKey": text_key, "labelKey": label_key, "fingerprint": fingerprint,
            "output": LABELS_FILE, "minLabels": min_labels}  # fmt: skip
    n = len(rows)
    body = f"""<style>{STYLE}</style>
<header><h1>Label documents: keep or drop</h1>
<p>{n:,} documents from <code>{esc(source)}</code>. Keys: <kbd>K</kbd> or <kbd>&rarr;</kbd> keep,
<kbd>D</kbd> or <kbd>&larr;</kbd> drop, <kbd>S</kbd> or <kbd>&darr;</kbd> skip, <kbd>U</kbd>, <kbd>Backspace</kbd>
or <kbd>&uarr;</kbd> back, <kbd>Ctrl</kbd>+<kbd>S</kbd> save. <b>Save</b> downloads <code>{LABELS_FILE}</code>
(nothing leaves this machine): put it where <code>auto_hpo.labels.path</code> points. Each record is the sample's
record with <code>{esc(label_key)}: true</code> (keep) or <code>false</code> (drop); skipped documents are left
out.</p></header>
<noscript><p><b>This page needs JavaScript to label.</b> The documents are in <code>{esc(source)}</code>.</p></noscript>
<main id="app" hidden>
<div class="row"><progress id="progress" max="{n}" value="0"></progress><span id="count"></span></div>
<div class="row">document <span id="pos">1</span> of {n:,} &middot; <span id="length"></span> characters
<span id="state" class="badge"></span></div>
<pre id="text" class="text"></pre><div id="meta" class="docmeta"></div>
<div class="row"><button id="keep" class="keep">Keep (K)</button><button id="drop" class="drop">Drop (D)</button>
<button id="skip">Skip (S)</button><button id="back">Back (U)</button>
<button id="save" class="save">Save {LABELS_FILE}</button></div>
<p id="saved" class="muted" role="status"></p>
</main>
<script type="application/json" id="sample">{_json_for_script(data)}</script>"""
    return page(f"Label {source}", body, SCRIPT)


def write_label_page(
    to_label_path: str, text_key: str = "text", label_key: str = "keep", out_path: Optional[str] = None
) -> str:
    """Write ``label.html`` beside ``to_label_path`` (or at ``out_path``); returns its path."""
    rows = read_sample(to_label_path, text_key)
    out_path = out_path or os.path.join(os.path.dirname(os.path.abspath(to_label_path)), "label.html")
    write_atomic(out_path, label_page_html(rows, os.path.basename(to_label_path), text_key, label_key))
    return out_path


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Write label.html beside a to_label.jsonl (see the module doc).")
    parser.add_argument("to_label", help="the sample to label (JSON Lines)")
    parser.add_argument("--text-key", default="text", help="the field holding the text (the recipe's text key)")
    parser.add_argument("--label-key", default="keep", help="the field the label is saved under (auto_hpo.labels)")
    parser.add_argument("--out", default=None, help="where to write the page (default: label.html beside it)")
    args = parser.parse_args(argv)
    try:
        path = write_label_page(args.to_label, args.text_key, args.label_key, args.out)
    except AutoHpoError as e:
        sys.stderr.write("\n".join(f"error: {p}" for p in e.problems) + "\n")
        return 1
    print(f"wrote {path}: open it in a browser to label the documents")
    return 0


if __name__ == "__main__":
    sys.exit(main())
