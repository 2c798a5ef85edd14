// The colour mode of Airflow's UI, for the dashboard's pages: Airflow 3 keeps it as the
// "dark"/"light" class of its page's <html> (next-themes, attribute "class") and the
// user's choice in localStorage "theme" ("light", "dark" or "system"). Framed by
// Airflow (same origin), follow its page, live; opened alone, its stored choice; else
// nothing is set and the stylesheet follows the system.
(function () {
  var root = document.documentElement;
  function framedBy() {
    try {
      return window.parent !== window ? window.parent.document.documentElement : null;
    } catch (e) {
      return null; // another origin: not Airflow
    }
  }
  function mode() {
    var airflow = framedBy();
    if (airflow) {
      if (airflow.classList.contains("dark")) return "dark";
      if (airflow.classList.contains("light")) return "light";
    }
    try {
      var stored = window.localStorage.getItem("theme");
      if (stored === "dark" || stored === "light") return stored;
    } catch (e) {
      // storage blocked: follow the system
    }
    return null;
  }
  function apply() {
    var chosen = mode();
    if (chosen) root.setAttribute("data-theme", chosen);
    else root.removeAttribute("data-theme");
  }
  apply();
  window.addEventListener("storage", function (event) {
    if (event.key === "theme") apply();
  });
  var airflow = framedBy();
  if (airflow && window.MutationObserver) {
    new MutationObserver(apply).observe(airflow, { attributes: true, attributeFilter: ["class"] });
  }
})();
