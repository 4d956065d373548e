// The dashboard's only script of its own, served by the node (/static/ews.js): pages hold
// no inline script, so their Content-Security-Policy needs no 'unsafe-inline'.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  // Draw every chart spec (a JSON data block) with Vega-Embed, from /static/vega.js.
  if (typeof window.vegaEmbed === "function") {
    document.querySelectorAll("script.chart-spec").forEach(function (el) {
      var target = document.getElementById(el.dataset.target);
      if (!target) { return; }
      window.vegaEmbed(target, JSON.parse(el.textContent), {
        actions: {export: true, source: false, compiled: false, editor: false},
        renderer: "svg",
        // Their styles come from /static/charts.css: no <style> written at run time.
        defaultStyle: false,
        forceActionsMenu: true,
        tooltip: {disableDefaultStyle: true}
      }).then(function () { target.dataset.rendered = "true"; })
        .catch(function (err) {
          target.textContent = "chart failed: " + err;
          target.dataset.rendered = "error";
        });
    });
  }
  // A select marked data-autosubmit applies its form when it changes.
  document.querySelectorAll("select[data-autosubmit]").forEach(function (el) {
    el.addEventListener("change", function () { el.form.submit(); });
  });
});
