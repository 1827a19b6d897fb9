/* Refusals come back as the proposal's card with the reason: swap them in too (htmx keeps 4xx out by default).
   A file of its own, not an inline <script>: the Content-Security-Policy runs scripts from our origin only. */
document.body.addEventListener("htmx:beforeSwap", function (event) {
  /* 429: too many wrong passwords; the server signed the session out and sends the page that says so. */
  if ([400, 403, 409, 429].indexOf(event.detail.xhr.status) !== -1) { event.detail.shouldSwap = true; event.detail.isError = false; }
});
