// The history page: delete an attempt after a confirmation dialog.
(function () {
  "use strict";
  var L = JSON.parse(document.getElementById("labels").textContent);
  var dialog = document.getElementById("confirm");
  var status = document.getElementById("status");
  var t = function (key, values) {
    return (L[key] || key).replace(/\{(\w+)\}/g, function (_, k) { return values[k]; });
  };
  var opener = null;
  var said = sessionStorage.getItem("speechcoach-status");
  if (said) {
    sessionStorage.removeItem("speechcoach-status");
    status.textContent = said;
    document.getElementById("main").focus();
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("button.delete");
    if (!button) return;
    opener = button;
    dialog.dataset.id = button.dataset.id;
    document.getElementById("confirm-text").textContent = t("delete_confirm", { id: button.dataset.id });
    dialog.showModal();
  });

  dialog.addEventListener("close", function () {
    var id = dialog.dataset.id;
    if (dialog.returnValue !== "delete") { if (opener) opener.focus(); return; }
    fetch("/api/attempts/" + encodeURIComponent(id), { method: "DELETE" })
      .then(function (r) { return r.json().then(function (body) { return { ok: r.ok, body: body }; }); })
      .then(function (res) {
        if (!res.ok) { status.textContent = res.body.error; status.className = "status error"; return; }
        // Reload: the table, the compare lists, the charts and the personal best all change.
        sessionStorage.setItem("speechcoach-status", t("deleted", { id: id }));
        window.location.reload();
      });
  });
})();
