// cairn render --serve and cairn demo: reloads the page once the site has been rendered again.
(function () {
  var since = document.currentScript.getAttribute("data-generation");
  function ask() {
    fetch("/__cairn/reload?since=" + since, { cache: "no-store" })
      .then(function (answer) {
        return answer.ok ? answer.text() : Promise.reject(answer.status);
      })
      .then(
        function (now) {
          if (now.trim() !== since) {
            location.reload();
          } else {
            ask();
          }
        },
        // The server is away (stopped, restarting): ask again in a second.
        function () {
          setTimeout(ask, 1000);
        }
      );
  }
  ask();
})();
