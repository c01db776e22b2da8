// The dashboard's only static files, kept as strings in the code so esbuild carries them into the
// single executable (packaging/bundle.ts) and nothing is read from disk at run time. Served under
// /ui/assets/NAME with a content hash in the URL and long caching; the CSP allows only these.
import { createHash } from 'node:crypto';

const CSS = `
:root{--fg:#1d2430;--muted:#5b6575;--line:#d6dbe3;--bg:#f6f7f9;--card:#fff;--accent:#1f5fbf;--ok:#1e7d3c;--warn:#a36200;--bad:#b3261e;--none:#c9ced6}
*{box-sizing:border-box}
body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:var(--fg);background:var(--bg)}
a{color:var(--accent)}
a:focus-visible,button:focus-visible,input:focus-visible,select:focus-visible,summary:focus-visible{outline:3px solid #f0b400;outline-offset:2px}
.skip{position:absolute;left:-999px;top:0;background:#fff;padding:6px 10px}
.skip:focus{left:8px;z-index:10}
header{display:flex;align-items:center;gap:18px;background:#16202e;color:#fff;padding:8px 18px;flex-wrap:wrap}
header .brand{font-weight:700;font-size:17px;margin-right:10px;color:#fff;text-decoration:none}
header nav ul{display:flex;gap:4px;list-style:none;margin:0;padding:0;flex-wrap:wrap}
header nav a{color:#dfe6f0;text-decoration:none;padding:6px 10px;border-radius:4px;display:block}
header nav a[aria-current=page]{background:#2d3b52;color:#fff}
header .who{margin-left:auto;display:flex;gap:10px;align-items:center;font-size:14px}
header .who button{background:transparent;color:#fff;border:1px solid #5d6b82;border-radius:4px;padding:4px 10px;cursor:pointer}
main{padding:18px;max-width:1400px;margin:0 auto}
h1{font-size:22px;margin:4px 0 14px}
h2{font-size:17px;margin:22px 0 8px}
h3{font-size:14px;margin:12px 0 4px;font-weight:600}
.history{display:block;margin:4px 0;background:#eef1f5}
.card{background:var(--card);border:1px solid var(--line);border-radius:6px;padding:14px;margin-bottom:14px}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(220px,1fr));gap:12px}
table{border-collapse:collapse;width:100%;background:var(--card)}
th,td{text-align:left;padding:6px 8px;border-bottom:1px solid var(--line);vertical-align:top}
th{font-size:13px;color:var(--muted);font-weight:600;white-space:nowrap}
td.num,th.num{text-align:right}
code,.mono{font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:13px}
.label{display:inline-block;background:#e8edf5;border-radius:3px;padding:0 6px;margin:1px 2px 1px 0;font-size:12px}
.state{display:inline-block;border-radius:10px;padding:1px 9px;font-size:12px;font-weight:600;color:#fff}
.state.st-ready{background:var(--ok)}.state.st-warn{background:var(--warn)}.state.st-offline,.state.st-bad{background:var(--bad)}.state.st-none{background:#6b7585}
svg .st-ready{fill:var(--ok)}svg .st-warn{fill:var(--warn)}svg .st-offline,svg .st-bad{fill:var(--bad)}svg .st-none{fill:var(--none)}svg .st-info{fill:var(--accent)}
.bar{display:block;border-radius:3px;overflow:hidden;margin:6px 0}
.legend{display:flex;gap:14px;flex-wrap:wrap;font-size:13px;color:var(--muted)}
.muted{color:var(--muted)}
.error{color:var(--bad)}
.notice{background:#fff7e0;border:1px solid #e7c868;padding:8px 12px;border-radius:4px;margin-bottom:12px}
.alert{background:#fdecea;border:1px solid #e8a29c;padding:8px 12px;border-radius:4px;margin-bottom:12px}
form.filters{display:flex;gap:10px;flex-wrap:wrap;align-items:flex-end;margin-bottom:12px}
form.filters label,form.stack label{display:flex;flex-direction:column;font-size:13px;color:var(--muted);gap:2px}
form.stack{display:flex;flex-direction:column;gap:10px;max-width:420px}
input,select{font:inherit;padding:5px 7px;border:1px solid #9aa4b2;border-radius:4px;background:#fff;color:var(--fg)}
button{font:inherit;padding:5px 12px;border-radius:4px;border:1px solid var(--accent);background:var(--accent);color:#fff;cursor:pointer}
button.secondary{background:#fff;color:var(--accent)}
button.danger{background:#fff;color:var(--bad);border-color:var(--bad)}
form.inline{display:inline}
.pager{display:flex;gap:10px;align-items:center;margin:10px 0}
.secret{display:flex;gap:8px;align-items:center;flex-wrap:wrap}
.secret input{flex:1;min-width:300px;font-family:ui-monospace,"DejaVu Sans Mono",monospace}
.login{max-width:460px;margin:40px auto}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:4px 16px;margin:0}
dl.facts dt{color:var(--muted)}dl.facts dd{margin:0}
.progress{white-space:nowrap}.progress svg{vertical-align:middle}
`;

// Progressive enhancement only: every page reads and every form posts without it.
const JS = `
'use strict';
(function () {
  var live = document.getElementById('live');
  var src = live && live.getAttribute('data-live');
  if (src && window.EventSource) {
    var es = new EventSource(src);
    es.addEventListener('page', function (ev) {
      var a = document.activeElement;
      // Never swap the region under someone typing into a form inside it.
      if (a && live.contains(a) && (a.tagName === 'INPUT' || a.tagName === 'SELECT' || a.tagName === 'TEXTAREA')) return;
      live.innerHTML = ev.data;
      live.setAttribute('data-updated', String(Date.now()));
    });
    es.addEventListener('end', function () { es.close(); });
  }
  document.addEventListener('click', function (ev) {
    var b = ev.target && ev.target.closest ? ev.target.closest('button[data-copy]') : null;
    if (!b) return;
    var field = document.getElementById(b.getAttribute('data-copy'));
    if (!field) return;
    field.select();
    var done = function () { b.textContent = 'Copied'; };
    if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(field.value).then(done, function () { document.execCommand('copy'); done(); });
    else { document.execCommand('copy'); done(); }
  });
})();
`;

export interface Asset {
  name: string;
  type: string;
  body: string;
  etag: string;
  /** The URL the pages use (content hash included, so it can be cached for a year). */
  url: string;
}

function asset(name: string, type: string, body: string): Asset {
  const hash = createHash('sha256').update(body).digest('hex').slice(0, 12);
  return { name, type, body, etag: `"${hash}"`, url: `/ui/assets/${hash}/${name}` };
}

export const ASSETS = Object.freeze({
  css: asset('app.css', 'text/css; charset=utf-8', CSS),
  js: asset('app.js', 'text/javascript; charset=utf-8', JS),
});

/** The asset a request path names, if any (any hash: an old page still gets the current file). */
export function assetFor(path: string): Asset | undefined {
  const m = /^\/ui\/assets\/[0-9a-f]{12}\/([a-z.]+)$/.exec(path);
  return Object.values(ASSETS).find((a) => a.name === m?.[1]);
}
