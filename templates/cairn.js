// cairn: optional enhancements; every feature works without this script.
// Remembers the reader's name and website on this device, and replies in place. On
// sites whose own script renders pages in the browser (VitePress, Docusaurus, ...),
// it fills the placeholders that script left empty with what cairn rendered into the
// page's HTML file.
(function () {
  "use strict";
  // A site may load this script itself as well as cairn's copy in the page's head.
  if (window.cairnEnhances) return;
  window.cairnEnhances = true;
  var KEY = "cairn-identity";

  function remember(form) {
    var saved = {};
    try { saved = JSON.parse(localStorage.getItem(KEY) || "{}"); } catch (e) { saved = {}; }
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
  }

  // Replying in place: "Reply" moves the section's form under the comment answered,
  // rather than opening the inbox's reply page.
  function replyInPlace(section, form) {
    if (!form.elements.parent) return;
    var title = section.querySelector(".cairn-form-title");
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
    section.querySelectorAll("a.cairn-reply").forEach(function (link) {
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
  }

  // Each form once, however often the page's sections are filled again.
  function enhance() {
    document.querySelectorAll(".cairn-form").forEach(function (form) {
      if (form.cairnEnhanced) return;
      form.cairnEnhanced = true;
      remember(form);
      var section = form.closest(".cairn");
      if (section && form.id === "cairn-form") replyInPlace(section, form);
    });
  }

  // A placeholder the page's own script rendered again, without what cairn put in:
  // the section, a count, a list of recent comments. It is paired with the one of the
  // same kind, thread and language in the page's HTML file, in order.
  var PLACEHOLDERS = "#cairn-comments, [data-cairn-count], [data-cairn-recent]";
  function key(el) {
    var kind = el.id === "cairn-comments" ? "comments"
      : el.hasAttribute("data-cairn-count") ? "count " + el.getAttribute("data-cairn-count")
      : "recent " + el.getAttribute("data-cairn-recent");
    return kind + " " + (el.getAttribute("data-cairn-lang") || "");
  }
  function emptied(el) {
    return el.hasAttribute("data-cairn-count") ? !el.textContent.trim() : !el.firstElementChild;
  }
  var pages = {};
  function restore() {
    var placeholders = [].slice.call(document.querySelectorAll(PLACEHOLDERS));
    if (!placeholders.some(emptied)) return;
    var page = location.pathname + location.search;
    if (!pages[page]) {
      pages[page] = fetch(page, { credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.text() : ""; })
        .then(function (html) { return new DOMParser().parseFromString(html, "text/html"); })
        .catch(function () { return null; });
    }
    pages[page].then(function (built) {
      // The reader may have moved on while the page was fetched.
      if (!built || location.pathname + location.search !== page) return;
      var rendered = {};
      built.querySelectorAll(PLACEHOLDERS).forEach(function (el) {
        (rendered[key(el)] = rendered[key(el)] || []).push(el);
      });
      var seen = {};
      document.querySelectorAll(PLACEHOLDERS).forEach(function (el) {
        var k = key(el);
        var nth = seen[k] = (seen[k] || 0) + 1;
        var from = (rendered[k] || [])[nth - 1];
        if (from && emptied(el) && !emptied(from)) el.innerHTML = from.innerHTML;
      });
      enhance();
    });
  }

  enhance();
  restore();
  var pending = false;
  new MutationObserver(function () {
    if (pending) return;
    pending = true;
    setTimeout(function () { pending = false; restore(); }, 30);
  }).observe(document.documentElement, { childList: true, subtree: true });
})();
