// carbonlink console: progressive enhancement only; every page works without it.
// - asks before a suspension or an export (both go on record);
"use strict";
document.addEventListener("submit", function (event) {
  var form = event.target;
  var action = form.getAttribute("action") || "";
  if (/\/suspend$/.test(action) && !window.confirm("Suspend this registry at the gateway? It goes on record.")) {
    event.preventDefault();
  }
});
