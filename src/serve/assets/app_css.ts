/**
 * The page's style sheet (no framework, no web fonts): one column on a phone, wider rows on a
 * desktop.
 *
 * @module
 */

/** Served at `/app.css`. */
export const APP_CSS = `
:root { --bg: #f6f7f9; --fg: #1b1f24; --muted: #5f6b7a; --card: #fff; --line: #dde2e8;
  --accent: #2f6fde; --ok: #1f8a4c; --bad: #c62f2f; --warn: #b7791f; }
@media (prefers-color-scheme: dark) {
  :root { --bg: #14171b; --fg: #e6e9ed; --muted: #9aa5b1; --card: #1d2126; --line: #2e343b;
    --accent: #6c9ef8; --ok: #4cc17f; --bad: #f07070; --warn: #e0a84a; }
}
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif;
  background: var(--bg); color: var(--fg); }
header { display: flex; flex-wrap: wrap; align-items: center; gap: .5rem 1rem; padding: .6rem 1rem;
  background: var(--card); border-bottom: 1px solid var(--line); position: sticky; top: 0; z-index: 1; }
h1 { font-size: 1.2rem; margin: 0; }
h2 { font-size: 1rem; margin: 0 0 .5rem; }
h2 small { color: var(--muted); font-weight: normal; }
main { max-width: 1100px; margin: 0 auto; padding: .5rem; }
section { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: .75rem;
  margin: .5rem 0; }
.counts { display: flex; flex-wrap: wrap; gap: .4rem; flex: 1; }
.chip { padding: .1rem .5rem; border-radius: 999px; background: var(--bg); border: 1px solid var(--line);
  font-size: .85rem; white-space: nowrap; }
.conn { font-size: .8rem; color: var(--muted); }
.conn.live { color: var(--ok); }
.cards { display: grid; gap: .5rem; grid-template-columns: repeat(auto-fill, minmax(280px, 1fr)); }
.card { border: 1px solid var(--line); border-radius: 6px; padding: .5rem; }
.name { font-weight: 600; overflow-wrap: anywhere; }
.path { color: var(--muted); font-size: .8rem; overflow-wrap: anywhere; }
.bar { height: .6rem; background: var(--bg); border: 1px solid var(--line); border-radius: 4px;
  margin: .4rem 0; overflow: hidden; }
.fill { height: 100%; background: var(--accent); width: 0; transition: width .5s; }
.meta { color: var(--muted); font-size: .85rem; }
.row { display: grid; grid-template-columns: 5.5rem 1fr auto; gap: .25rem .75rem; align-items: center;
  padding: .4rem 0; border-top: 1px solid var(--line); }
.row:first-child { border-top: 0; }
.row .pos { color: var(--muted); font-variant-numeric: tabular-nums; }
.actions { display: flex; flex-wrap: wrap; gap: .3rem; justify-content: flex-end; }
.actions input { width: 4.5rem; }
.completed { color: var(--ok); }
.failed { color: var(--bad); }
.cancelled { color: var(--warn); }
details { grid-column: 1 / -1; }
pre { white-space: pre-wrap; overflow-wrap: anywhere; font-size: .8rem; background: var(--bg);
  padding: .5rem; border-radius: 4px; max-height: 20rem; overflow: auto; margin: .3rem 0 0; }
button, select, input { font: inherit; padding: .3rem .6rem; border-radius: 4px;
  border: 1px solid var(--line); background: var(--card); color: var(--fg); }
button { cursor: pointer; }
button.danger { color: var(--bad); }
button:disabled { opacity: .5; cursor: default; }
.pager { display: flex; gap: .5rem; align-items: center; justify-content: center; margin-top: .5rem; }
.chart svg { width: 100%; height: 140px; display: block; }
.chart rect { fill: var(--accent); }
.chart text { fill: var(--muted); font-size: 10px; }
.error { color: var(--bad); }
.message { color: var(--muted); min-height: 1.2em; }
.empty { color: var(--muted); font-style: italic; }
form label { display: inline-flex; gap: .4rem; align-items: center; margin: 0 .5rem .5rem 0; }
@media (max-width: 600px) {
  .row { grid-template-columns: 4.5rem 1fr; }
  .row .actions { grid-column: 1 / -1; justify-content: flex-start; }
  header { padding: .5rem; }
}
`;
