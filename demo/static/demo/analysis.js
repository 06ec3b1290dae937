// Sends the analysis form with fetch, so the page (and its toasts) stays in place while
// the long callback runs. Without JavaScript the form posts and the view redirects back.
(function () {
  "use strict";

  var form = document.getElementById("analysis-form");
  if (!form || !window.fetch || !window.FormData) {
    return;
  }
  var submitButtons = document.querySelectorAll("button[form='analysis-form']");

  function setBusy(busy) {
    submitButtons.forEach(function (button) {
      button.disabled = busy;
    });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    setBusy(true);
    fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      credentials: "same-origin",
      headers: { "X-Requested-With": "fetch" },
    })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        // Clearing the file input lets the same file be chosen again.
        form.querySelector("input[type='file']").value = "";
      })
      .catch(function (error) {
        // The view reports problems with the file as notifications; this is a failed request.
        console.error("longcallbacks demo: the upload failed:", error);
        window.alert("The upload failed (" + error.message + "). Check the connection and try again.");
      })
      .then(function () {
        setBusy(false);
      });
  });
})();
