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
        var row = document.getElementById("attempt-" + id);
        if (row) row.remove();
        document.querySelectorAll("option[value='" + id + "']").forEach(function (o) { o.remove(); });
        status.textContent = t("deleted", { id: id });
        status.className = "status";
        document.querySelector("h1").focus && document.getElementById("main").focus();
      });
  });
})();
