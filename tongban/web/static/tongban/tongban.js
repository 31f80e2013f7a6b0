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
      if (el.type === "radio" || el.type === "checkbox") el.checked = false;  // keep the option values
      else if (el.tagName === "SELECT") el.selectedIndex = 0;
      else if (el.tagName !== "LABEL") el.value = "";
      el.removeAttribute("aria-invalid");
      el.removeAttribute("aria-describedby");  // it named the copied row's error, dropped below
    });
    clone.querySelectorAll(".error").forEach(function (el) { el.remove(); });
    clone.querySelectorAll(".has-error").forEach(function (el) { el.classList.remove("has-error"); });
    const legend = clone.querySelector("legend");
    if (legend) legend.textContent = legend.textContent.replace(/第\d+行/, "第" + (n + 1) + "行");
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
