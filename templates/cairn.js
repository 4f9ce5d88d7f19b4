// cairn: optional enhancements; every feature works without this script.
// Remembers the reader's name and website on this device, and focuses the reply box.
(function () {
  "use strict";
  var KEY = "cairn-identity";
  var saved = {};
  try { saved = JSON.parse(localStorage.getItem(KEY) || "{}"); } catch (e) { saved = {}; }
  var forms = document.querySelectorAll(".cairn-form");
  forms.forEach(function (form) {
    ["author", "website"].forEach(function (name) {
      var input = form.elements[name];
      if (input && !input.value && saved[name]) input.value = saved[name];
    });
    form.addEventListener("submit", function () {
      try {
        localStorage.setItem(KEY, JSON.stringify({
          author: form.elements.author ? form.elements.author.value : "",
          website: form.elements.website ? form.elements.website.value : ""
        }));
      } catch (e) { /* storage may be off; nothing lost */ }
    });
  });
  document.querySelectorAll(".cairn-reply").forEach(function (details) {
    details.addEventListener("toggle", function () {
      if (!details.open) return;
      document.querySelectorAll(".cairn-reply[open]").forEach(function (other) {
        if (other !== details) other.open = false;
      });
      var body = details.querySelector("textarea");
      if (body) body.focus();
    });
  });
})();
