// Small progressive enhancements; every form works without them.
document.addEventListener("click", function (e) {
  const add = e.target.closest("[data-add-row]");
  if (add) {
    const box = document.getElementById(add.dataset.addRow);
    const rows = box.querySelectorAll(".row");
    const last = rows[rows.length - 1];
    const clone = last.cloneNode(true);
    const n = rows.length;
    clone.querySelectorAll("input, select, textarea, label").forEach(function (el) {
      ["name", "id", "for"].forEach(function (attr) {
        const v = el.getAttribute(attr);
        if (v) el.setAttribute(attr, v.replace(/-\d+-/, "-" + n + "-"));
      });
      if (el.tagName !== "LABEL") el.value = "";
    });
    clone.querySelectorAll(".error").forEach(function (el) { el.remove(); });
    const legend = clone.querySelector("legend");
    if (legend) legend.textContent = legend.textContent.replace(/\d+$/, String(n + 1));
    box.appendChild(clone);
    const first = clone.querySelector("input, select, textarea");
    if (first) first.focus();
  }
});
document.addEventListener("change", function (e) {
  if (e.target.matches("[data-check-all]")) {
    document.querySelectorAll("input[name=" + e.target.dataset.checkAll + "]").forEach(function (c) { c.checked = e.target.checked; });
  }
});
