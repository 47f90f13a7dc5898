/**
 * The page of `vpo serve`: a static shell with no data in it (data comes from `/api/`), kept as
 * a string module so that a compiled binary carries it.
 *
 * @module
 */

/** The page, served at `/`. */
export const INDEX_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>vpo</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/app.css">
</head>
<body>
<header>
  <h1>vpo</h1>
  <div id="counts" class="counts"></div>
  <span id="conn" class="conn">connecting</span>
</header>
<main>
  <section id="login" hidden>
    <h2>Sign in</h2>
    <form id="login-form">
      <label>Token <input id="login-token" type="password" autocomplete="current-password" required></label>
      <button type="submit">Sign in</button>
      <p id="login-error" class="error"></p>
    </form>
  </section>
  <section id="s-running">
    <h2>Running</h2>
    <div id="running" class="cards"></div>
  </section>
  <section id="s-workers">
    <h2>Workers</h2>
    <div id="workers"></div>
  </section>
  <section id="s-stats">
    <h2>Space saved</h2>
    <p id="stats-totals"></p>
    <div id="chart" class="chart"></div>
  </section>
  <section id="s-queue">
    <h2>Queue <small>in claim order</small></h2>
    <div id="queue" class="rows"></div>
    <div class="pager"><button id="queue-prev" type="button">Previous</button>
      <span id="queue-range"></span><button id="queue-next" type="button">Next</button></div>
  </section>
  <section id="s-finished">
    <h2>Finished <small>newest first</small></h2>
    <div id="finished" class="rows"></div>
    <div class="pager"><button id="finished-prev" type="button">Previous</button>
      <span id="finished-range"></span><button id="finished-next" type="button">Next</button></div>
  </section>
  <section id="s-add" hidden>
    <h2>Queue a folder</h2>
    <form id="add-form">
      <label>Folder <select id="add-folder"></select></label>
      <label>Policy <select id="add-policy"></select></label>
      <button type="submit">Queue</button>
      <p id="add-result"></p>
    </form>
  </section>
  <p id="message" class="message" role="status"></p>
</main>
<script src="/app.js"></script>
</body>
</html>
`;
