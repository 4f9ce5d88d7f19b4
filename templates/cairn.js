// cairn: optional enhancements; every feature works without this script.
// Remembers the reader's name and website on this device, and replies in place.
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
  // Replying in place: "Reply" moves the page's form under the comment answered,
  // rather than opening the inbox's reply page.
  var form = document.getElementById("cairn-form");
  if (!form || !form.elements.parent) return;
  var title = document.getElementById("cairn-form-title");
  var home = document.createComment("cairn-form");
  form.parentNode.insertBefore(home, form);
  var cancel = document.createElement("button");
  cancel.type = "button";
  cancel.className = "cairn-cancel";
  cancel.textContent = form.getAttribute("data-cairn-cancel") || "Cancel";
  cancel.hidden = true;
  form.insertBefore(cancel, form.firstChild);
  cancel.addEventListener("click", function () {
    form.elements.parent.value = "";
    cancel.hidden = true;
    if (title) title.hidden = false;
    home.parentNode.insertBefore(form, home);
    form.elements.body.focus();
  });
  document.querySelectorAll("a.cairn-reply").forEach(function (link) {
    link.addEventListener("click", function (event) {
      var comment = link.closest(".cairn-comment");
      if (!comment) return;
      event.preventDefault();
      form.elements.parent.value = comment.id.replace(/^c-/, "");
      cancel.hidden = false;
      if (title) title.hidden = true;
      link.parentNode.insertBefore(form, link.nextSibling);
      form.elements.body.focus();
    });
  });
})();
